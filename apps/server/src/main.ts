import 'reflect-metadata';
import { ConfigError, loadServerConfig } from './config/server-config';
import { startServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadServerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`certfleet-server: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const server = await startServer(config);
  const db = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/pglite`;
  console.log(
    [
      '',
      'certfleet control server is running',
      `  database:             ${db}`,
      `  REST API:             ${server.httpUrl}/api/v1   (OpenAPI: ${server.httpUrl}/docs)`,
      `  agent gRPC endpoint:  ${config.grpc.host}:${server.grpcPort}   (mTLS)`,
      `  fleet CA SHA-256:     ${server.caFingerprint}`,
      `  admin API token:      ${server.adminTokenPath}`,
      '',
      'Enroll a host:',
      `  certfleet token create --ttl 1h`,
      `  certfleet-agent enroll --server <this-host>:${server.grpcPort} --token <token> --ca-fingerprint ${server.caFingerprint}`,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error('certfleet-server failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
