// Report export benchmark: the real control server (in this process, PGlite or a fresh PostgreSQL
// database) with 200,000 inventory certificate copies seeded by SQL; GET /api/v1/reports/inventory
// streamed over loopback as CSV and as JSON, read by a client that only counts bytes and lines.
// Prints time, rows/s and the server process's peak RSS before and after (VmHWM).
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadServerConfig } from '../../../apps/server/src/config/server-config';
import { startServer } from '../../../apps/server/src/server';
import { metric, statusMb } from '../lib/sim-support';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ROWS = Number(arg('rows') ?? 200_000);
const AGENTS = 200;

async function administer(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

/** Streams one report; returns bytes and lines the client received. */
function download(url: string, token: string): Promise<{ bytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { authorization: `Bearer ${token}` } }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`HTTP ${response.statusCode}`));
      let bytes = 0;
      let lines = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      });
      response.on('end', () => resolve({ bytes, lines }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function main(): Promise<void> {
  const postgres = arg('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'cf-bench-reports-'));
  const dbName = postgres ? `certfleet_bench_reports_${process.pid}_${randomBytes(3).toString('hex')}` : '';
  let databaseUrl: string | undefined;
  if (postgres) {
    await administer(postgres, `CREATE DATABASE "${dbName}"`);
    const u = new URL(postgres);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const cleanup = async () => {
    if (dbName) await administer(postgres!, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((e) => console.error(e.message));
    rmSync(dir, { recursive: true, force: true });
  };
  const server = await startServer(
    loadServerConfig({
      CERTFLEET_DATA_DIR: join(dir, 'data'),
      CERTFLEET_HTTP_PORT: '0',
      CERTFLEET_GRPC_HOST: '127.0.0.1',
      CERTFLEET_GRPC_PORT: '0',
      CERTFLEET_POLICY_PASS_SECONDS: '0', // no background pass competing with the export
      CERTFLEET_REVOCATION_CHECK_MINUTES: '0',
      CERTFLEET_ALERT_SECONDS: '0',
      DATABASE_URL: databaseUrl,
    }),
    ['warn', 'error'],
  ).catch(async (err) => {
    await cleanup();
    throw err;
  });
  try {
    const ds = server.app.get(DataSource);
    const token = readFileSync(server.adminTokenPath, 'utf8').trim();
    const seeding = performance.now();
    await ds.query(
      `INSERT INTO agents (id, hostname, host_facts, enrolled_at, certificate_serial, certificate_not_after)
       SELECT gen_random_uuid(), 'host-' || g, '{}', now(), 'serial-' || g, now() + interval '30 days' FROM generate_series(1, ${AGENTS}) g`,
    );
    const agents: string[] = (await ds.query('SELECT id FROM agents ORDER BY hostname')).map((r: { id: string }) => r.id);
    const per = Math.ceil(ROWS / AGENTS);
    for (const [n, agent] of agents.entries()) {
      await ds.query(
        `INSERT INTO inventory_items (agent_id, item_key, kind, path, entry, fingerprint_sha256, subject, issuer, serial, not_before, not_after, detail, seen_sequence, first_seen_at, updated_at)
         SELECT $1, '/etc/ssl/cert-' || g || '.pem|0', 'certificate', '/etc/ssl/cert-' || g || '.pem', '0', md5($2 || g) || md5(g || $2), 'CN=www' || g || '.example.com, O=Example, C=US',
                'CN=Example Issuing CA, O=Example', to_hex(g), now() - interval '30 days', now() + (g % 400) * interval '1 day',
                jsonb_build_object('keyAlgorithm', CASE WHEN g % 10 = 0 THEN 'RSA' ELSE 'EC' END, 'keySize', CASE WHEN g % 10 = 0 THEN 2048 ELSE 256 END,
                  'keyCurve', CASE WHEN g % 10 = 0 THEN '' ELSE 'P-256' END, 'signatureAlgorithm', 'ecdsa-with-SHA256', 'isCa', false, 'selfSigned', false,
                  'dnsNames', jsonb_build_array('www' || g || '.example.com', 'api' || g || '.example.com')),
                1, now(), now()
           FROM generate_series(1, $3::int) g`,
        [agent, String(n), Math.min(per, ROWS - n * per)],
      );
    }
    metric('reports_seed_seconds', (performance.now() - seeding) / 1000);
    const [{ count }] = await ds.query(`SELECT count(*)::int AS count FROM inventory_items`);
    metric('reports_rows', count, 0);
    metric('reports_server_peak_rss_before_mb', statusMb('self', 'VmHWM'), 0);
    for (const format of ['csv', 'json'] as const) {
      const rssBefore = statusMb('self', 'VmRSS');
      const started = performance.now();
      const { bytes, lines } = await download(`${server.httpUrl}/api/v1/reports/inventory?format=${format}`, token);
      const seconds = (performance.now() - started) / 1000;
      const rows = format === 'csv' ? lines - 1 : lines - 2; // header line; "[" and "]" lines
      if (rows !== count) throw new Error(`${format}: expected ${count} rows, got ${rows}`);
      metric(`reports_export_${format}_seconds`, seconds);
      metric(`reports_export_${format}_rows_per_second`, rows / seconds, 0);
      metric(`reports_export_${format}_megabytes`, bytes / 1e6, 1);
      metric(`reports_export_${format}_rss_growth_mb`, statusMb('self', 'VmRSS') - rssBefore, 0);
      metric(`reports_server_peak_rss_after_${format}_mb`, statusMb('self', 'VmHWM'), 0);
    }
    metric('reports_database_is_postgres', postgres ? 1 : 0, 0);
  } finally {
    await server.close();
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
