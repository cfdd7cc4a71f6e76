// Shared by the revocation benchmarks (server side): the real control server started in this
// process (startServer: Nest app, PKI HTTP handler, PGlite or a fresh PostgreSQL database), a
// quick-start issuing CA, issued_certificates rows seeded by SQL, load clients in child processes,
// and the server's CPU and memory. Everything it makes is removed by close().
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { IssuingCasService } from '../../../apps/server/src/app/issuing-cas/issuing-cas.service';
import { loadServerConfig } from '../../../apps/server/src/config/server-config';
import { queryRows } from '../../../apps/server/src/database/query-rows';
import { RunningServer, startServer } from '../../../apps/server/src/server';
import { processCpuSeconds, statusMb, withTimeout } from '../lib/sim-support';
import type { ClientResult, ClientTask } from './client';

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
export const numArg = (name: string, fallback: number) => Number(arg(name) ?? fallback);
export const log = (msg: string) => console.log(msg);
export const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

export interface BenchServer {
  server: RunningServer;
  ds: DataSource;
  db: 'pglite' | 'postgres';
  /** The PostgreSQL database's name ('' on PGlite), for its backends' CPU. */
  dbName: string;
  caId: string;
  caCertificatePem: string;
  adminToken: string;
  close(): Promise<void>;
}

/**
 * Starts the server on loopback with its own data directory. `postgresAdminUrl`: a server where a
 * database is created for this run and dropped at close (as tools/test/databases.ts does for tests;
 * that file is test-only and not compiled to dist/, hence these few lines).
 */
export async function startBenchServer(label: string, postgresAdminUrl?: string): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), `cf-bench-${label}-`));
  let dbName = '';
  let databaseUrl: string | undefined;
  if (postgresAdminUrl) {
    dbName = `certfleet_bench_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
    await administer(postgresAdminUrl, `CREATE DATABASE "${dbName}"`);
    const url = new URL(postgresAdminUrl);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
  }
  const cleanup = async () => {
    if (dbName) await administer(postgresAdminUrl!, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((err) => console.error(`could not drop ${dbName}: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const config = loadServerConfig({
      CERTFLEET_DATA_DIR: join(dir, 'data'),
      CERTFLEET_HTTP_HOST: '127.0.0.1',
      CERTFLEET_HTTP_PORT: '0',
      CERTFLEET_GRPC_HOST: '127.0.0.1',
      CERTFLEET_GRPC_PORT: '0',
      CERTFLEET_SCHEDULER_SECONDS: '60',
      DATABASE_URL: databaseUrl,
    });
    const server = await startServer(config, ['warn', 'error']);
    const cas = server.app.get(IssuingCasService);
    const ca = await cas.quickStart('bench', 'system:bench');
    const row = await cas.find(ca.id);
    return {
      server,
      ds: server.app.get(DataSource),
      db: databaseUrl ? 'postgres' : 'pglite',
      dbName,
      caId: ca.id,
      caCertificatePem: row.certificatePem!,
      adminToken: readFileSync(server.adminTokenPath, 'utf8').trim(),
      async close() {
        await withTimeout(server.close(), 30_000, 'server shutdown').catch((err) => console.error(err.message));
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function administer(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Inserts `revoked` revoked then `good` unrevoked rows for the CA, as the responder and the CRL
 * publisher read them (serial, CA, revoked_at, reason, revocation_seq in revocation order); the
 * certificate itself is a filler of a real PEM's size. Serials: 16 bytes, first byte 0x10-0x7f
 * (positive, minimal DER, like issued ones). Returns the serials, revoked first.
 */
export async function seed(ds: DataSource, caId: string, revoked: number, good: number): Promise<{ revoked: string[]; good: string[]; seconds: number }> {
  const t0 = performance.now();
  const total = revoked + good;
  for (let from = 1; from <= total; from += 50_000) {
    const to = Math.min(total, from + 49_999);
    await ds.query(
      `INSERT INTO "issued_certificates" ("serial", "issuing_ca_id", "public_key_sha256", "fingerprint_sha256", "certificate_pem",
                                          "not_before", "not_after", "issued_at", "revoked_at", "revocation_reason", "revocation_seq")
       SELECT s.serial, $1, md5(s.serial) || md5(s.serial || 'k'), md5(s.serial || 'f') || md5(s.serial || 'g'), $2,
              now() - interval '1 day', now() + interval '89 days', now() - interval '1 day',
              CASE WHEN s.g <= $5 THEN now() - make_interval(secs => $5 - s.g) END,
              CASE WHEN s.g <= $5 THEN 'keyCompromise' END,
              CASE WHEN s.g <= $5 THEN nextval('revocation_seq') END
         FROM (SELECT g, to_hex(16 + g % 112) || substr(md5(g::text || ':' || random()::text), 1, 30) AS serial
                 FROM generate_series($3::int, $4::int) g) s`,
      [caId, `-----BEGIN CERTIFICATE-----\n${'A'.repeat(760)}\n-----END CERTIFICATE-----\n`, from, to, revoked],
    );
  }
  await ds.query(`ANALYZE "issued_certificates"`);
  const rows = queryRows<{ serial: string; revoked: boolean }>(
    await ds.query(`SELECT "serial", "revocation_seq" IS NOT NULL AS "revoked" FROM "issued_certificates" WHERE "issuing_ca_id" = $1 ORDER BY "revocation_seq" NULLS LAST, "serial"`, [caId]),
  );
  return { revoked: rows.filter((r) => r.revoked).map((r) => r.serial), good: rows.filter((r) => !r.revoked).map((r) => r.serial), seconds: (performance.now() - t0) / 1000 };
}

/** CPU seconds of the PostgreSQL backends serving `db`, by process id. */
function backendCpu(db: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!db) return out;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres: ') && cmd.split(' ').includes(db)) out.set(Number(name), processCpuSeconds(Number(name)));
    } catch {
      // the process is gone
    }
  }
  return out;
}

/**
 * Starts measuring the server: CPU of this process (Nest + PGlite) and of the benchmark database's
 * PostgreSQL backends (sampled every second, so a backend the pool closes on the way still counts
 * up to its last sample). report() ends the measurement and describes it with RSS.
 */
export function serverMeter(b: BenchServer): { report(): string } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const first = backendCpu(b.dbName);
  const last = new Map(first);
  const sample = () => backendCpu(b.dbName).forEach((cpu, pid) => last.set(pid, cpu));
  const timer = b.dbName ? setInterval(sample, 1000) : undefined;
  return {
    report() {
      clearInterval(timer);
      sample();
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const node = (cpu.user + cpu.system) / 1e6;
      let pg = 0;
      last.forEach((cpu, pid) => (pg += cpu - (first.get(pid) ?? 0)));
      const share = (v: number) => `${((100 * v) / seconds).toFixed(0)}% of a core`;
      return `server CPU ${node.toFixed(2)} s (${share(node)})${b.db === 'postgres' ? `, postgres backends ${pg.toFixed(2)} s (${share(pg)})` : ''}, RSS ${statusMb('self', 'VmRSS').toFixed(0)} MB (peak ${statusMb('self', 'VmHWM').toFixed(0)} MB, Buffers ${(process.memoryUsage().arrayBuffers / 1e6).toFixed(0)} MB)`;
    },
  };
}

export function header(name: string, b: BenchServer): void {
  log(`${name}: database ${b.db}, ${cpus().length} cores, node ${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
}

/** Runs one task per child process (client.js) at once; each child exits after its task. */
export async function runClients(tasks: ClientTask[], timeoutMs: number): Promise<ClientResult[]> {
  const children = tasks.map(() => fork(join(__dirname, 'client.js'), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const results = children.map(
      (child, i) =>
        new Promise<ClientResult>((resolve, reject) => {
          child.once('message', (m) => resolve(m as ClientResult));
          child.once('exit', (code) => reject(new Error(`load client ${i} exited (${code}) before reporting`)));
          child.once('error', reject);
        }),
    );
    children.forEach((child, i) => child.send(tasks[i]));
    return await withTimeout(Promise.all(results), timeoutMs, 'load clients');
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}
