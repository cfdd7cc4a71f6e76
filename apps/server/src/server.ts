import 'reflect-metadata';
import { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { mkdirSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { formatFingerprint } from '@certfleet/pki';
import { AppModule } from './app.module';
import { ApiTokenService } from './app/auth/api-token.service';
import { FleetCaService } from './app/fleet-ca/fleet-ca.service';
import { IssuingCasService } from './app/issuing-cas/issuing-cas.service';
import { PkiUrls } from './app/issuing-cas/pki-urls';
import { CrlPublisher } from './app/revocation/crl-publisher.service';
import { OcspResponder } from './app/revocation/ocsp-responder.service';
import { pkiHttpHandler } from './app/revocation/pki-http.handler';
import { ServerConfig } from './config/server-config';
import { AgentGrpcServer } from './grpc/agent/v1/agent-grpc.server';

export interface RunningServer {
  app: INestApplication;
  httpUrl: string;
  grpcPort: number;
  caFingerprint: string;
  caCertificatePem: string;
  adminTokenPath: string;
  close(): Promise<void>;
}

/** Starts the control server: database, fleet CA, REST API with OpenAPI at /docs, agent gRPC. */
export async function startServer(config: ServerConfig, logLevels: LogLevel[] = ['log', 'warn', 'error']): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const app = await NestFactory.create(AppModule.forConfig(config), { logger: logLevels, abortOnError: false });
  app.enableShutdownHooks();
  // The public PKI endpoints go before Express on the raw server: tokenless, and OCSP is the hottest
  // path the server has (Express's request handling about halved its throughput).
  const pki = pkiHttpHandler({ ocsp: app.get(OcspResponder), crls: app.get(CrlPublisher), cas: app.get(IssuingCasService) });
  const httpServer = app.getHttpServer() as import('node:http').Server;
  const rest = httpServer.listeners('request') as Array<(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void>;
  httpServer.removeAllListeners('request');
  httpServer.on('request', (req, res) => pki(req, res, () => rest.forEach((listener) => listener(req, res))));
  const openApi = new DocumentBuilder()
    .setTitle('certfleet control server')
    .setDescription('Fleet inventory, enrollment and certificate lifecycle API. Authenticate with an admin API token.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, openApi), { jsonDocumentUrl: 'docs/openapi.json' });
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  app.get(PkiUrls).listening(address.address, address.port, config.publicNames);
  const ca = app.get(FleetCaService);
  return {
    app,
    httpUrl: `http://${host}:${address.port}`,
    grpcPort: app.get(AgentGrpcServer).port,
    caFingerprint: formatFingerprint(ca.caFingerprint),
    caCertificatePem: ca.caCertificatePem,
    adminTokenPath: app.get(ApiTokenService).adminTokenPath,
    close: () => app.close(),
  };
}
