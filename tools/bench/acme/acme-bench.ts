// ACME server benchmark: the real control server started in this process (PGlite, or a fresh
// PostgreSQL database with --postgres), a quick-start issuing CA, then
//   1. orders/s: acme-client (in this process) runs complete orders (new order, HTTP-01, finalize,
//      download) with `--concurrency` in flight for `--seconds`; the HTTP-01 answers come from an
//      in-process responder on loopback that answers at once, so nothing waits on the network;
//   2. the wall time of one `certbot certonly --standalone` issuance (a new account, one name).
// Prints METRIC lines; asserts nothing about time.
import 'reflect-metadata';
import * as acme from 'acme-client';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IssuingCasService } from '../../../apps/server/src/app/issuing-cas/issuing-cas.service';
import { loadServerConfig } from '../../../apps/server/src/config/server-config';
import { startServer } from '../../../apps/server/src/server';
import { Client } from 'pg';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the server in TEST_DATABASE_URL, dropped afterwards. */
async function createDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `certfleet_bench_acme_${process.pid}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

const NAMES = Array.from({ length: 8 }, (_, i) => `b${i}.bench.test`);

async function freePort(): Promise<number> {
  const srv = createNetServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '20'));
  const concurrency = Number(arg('concurrency', '8'));
  const postgres = process.argv.includes('--postgres');
  const work = mkdtempSync(join(tmpdir(), 'cf-bench-acme-'));
  let db: BenchDatabase | undefined;
  const http01Port = await freePort();
  // The in-process HTTP-01 responder: key authorizations by token, answered at once.
  const answers = new Map<string, string>();
  const responder = createServer((req, res) => {
    const token = (req.url ?? '').split('/').pop() ?? '';
    const body = answers.get(token);
    res.writeHead(body ? 200 : 404).end(body ?? '');
  });
  try {
    if (postgres) db = await createDatabase(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    const config = loadServerConfig({
      CERTFLEET_DATA_DIR: join(work, 'server'),
      CERTFLEET_HTTP_PORT: '0',
      CERTFLEET_GRPC_PORT: '0',
      CERTFLEET_GRPC_HOST: '127.0.0.1',
      CERTFLEET_REVOCATION_CHECK_MINUTES: '0',
      CERTFLEET_ACME_HTTP01_PORT: String(http01Port),
      CERTFLEET_ACME_HOSTS: [...NAMES, 'certbot.bench.test'].map((n) => `${n}=127.0.0.1`).join(','),
      ...(db ? { DATABASE_URL: db.url } : {}),
    });
    const server = await startServer(config, ['warn', 'error']);
    try {
      await server.app.get(IssuingCasService).quickStart('bench', 'bench');
      const directoryUrl = `${server.httpUrl}/acme/bench/directory`;
      responder.listen(http01Port, '127.0.0.1');
      await once(responder, 'listening');

      const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey(), backoffMin: 10, backoffMax: 100, backoffAttempts: 50 });
      await client.createAccount({ termsOfServiceAgreed: true });
      const csrs = await Promise.all(NAMES.map(async (name) => (await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey()))[1]));
      const order = async (i: number) =>
        client.auto({
          csr: csrs[i % csrs.length],
          challengePriority: ['http-01'],
          skipChallengeVerification: true,
          termsOfServiceAgreed: true,
          challengeCreateFn: async (_authz, challenge, keyAuthorization) => void answers.set(challenge.token, keyAuthorization),
          challengeRemoveFn: async (_authz, challenge) => void answers.delete(challenge.token),
        });
      await order(0); // warm-up
      let completed = 0;
      const latencies: number[] = [];
      const started = performance.now();
      const until = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async (_, w) => {
          for (let i = w; performance.now() < until; i += concurrency) {
            const t = performance.now();
            const pem = await order(i);
            if (!pem.includes('BEGIN CERTIFICATE')) throw new Error('no certificate');
            latencies.push(performance.now() - t);
            completed++;
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      console.log(`METRIC acme_orders_per_second ${(completed / elapsed).toFixed(1)}`);
      console.log(`METRIC acme_orders_completed ${completed}`);
      console.log(`METRIC acme_order_p50_ms ${latencies[Math.floor(latencies.length / 2)].toFixed(1)}`);
      console.log(`METRIC acme_order_p95_ms ${latencies[Math.floor(latencies.length * 0.95)].toFixed(1)}`);
      console.log(`METRIC acme_order_concurrency ${concurrency}`);

      // certbot binds the HTTP-01 port itself.
      responder.close();
      await once(responder, 'close');
      const cb = join(work, 'certbot');
      const t0 = performance.now();
      const result = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          'certbot',
          ['certonly', '--standalone', '--http-01-address', '127.0.0.1', '--http-01-port', String(http01Port), '--server', directoryUrl, '--agree-tos', '--register-unsafely-without-email', '--non-interactive', '-d', 'certbot.bench.test', '--config-dir', join(cb, 'config'), '--work-dir', join(cb, 'work'), '--logs-dir', join(cb, 'logs')],
          { timeout: 120_000 },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }),
        ),
      );
      if (result.code !== 0) throw new Error(`certbot failed:\n${result.out}`);
      console.log(`METRIC acme_certbot_issuance_seconds ${((performance.now() - t0) / 1000).toFixed(2)}`);
      console.log(`METRIC acme_database_is_postgres ${postgres ? 1 : 0}`);
    } finally {
      await server.close();
    }
  } finally {
    if (responder.listening) responder.close();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
