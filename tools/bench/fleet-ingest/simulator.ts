// Fleet-ingest benchmark: N simulated agents in one process, each with its own enrollment, key,
// mTLS identity and gRPC channel, send one full-sync InventoryReport of M real certificates at the
// same moment; the clock stops when every report is acknowledged. Prints METRIC lines.
// Run through run.sh, which starts the control server; usage (bundled with esbuild):
//   node simulator.js --http URL --grpc HOST:PORT --fingerprint FP --data-dir DIR --server-pid PID
//                     [--agents N] [--certs M] [--concurrency C] [--pg-db NAME] [--no-heartbeats]
import { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { machineBusySeconds, metric, pct, pool, postgresBackendCpuSeconds, processCpuSeconds, rest as restCall, statusMb, withTimeout, readSimulatorArgs, SimulatorArgs } from '../lib/sim-support';
import type { DiscoveredCertificate } from '@certfleet/pki';
import { AgentMessage, AgentServiceClient, HostFacts, InventoryItem, InventoryReport, ReportAck, ServerMessage, Welcome } from '@certfleet/proto';
import { scanPaths } from '../../../apps/agent/src/discovery';
import { enroll } from '../../../apps/agent/src/enroll/enroll';
import { collectHostFacts } from '../../../apps/agent/src/host/host-facts';
import { certificateKey } from '../../../apps/agent/src/inventory/inventory-items';
import { channelCredentials, targetNameOptions } from '../../../apps/agent/src/session/server-trust';
import { AgentIdentity } from '../../../apps/agent/src/state/identity';

// ---------------------------------------------------------------------------------------------
// options

interface Options extends SimulatorArgs {
  certs: number;
  pgDb: string;
  heartbeats: boolean;
}

function parseArgs(argv: string[]): Options {
  const { args, get } = readSimulatorArgs(argv);
  return {
    ...args,
    certs: Number(get('certs') ?? 20),
    pgDb: get('pg-db') ?? '',
    heartbeats: !argv.includes('--no-heartbeats'),
  };
}

// ---------------------------------------------------------------------------------------------
// measuring

interface CpuSample {
  server: number;
  postgres: number;
  machine: number;
  self: number;
  at: number;
}

function sampleCpu(o: Options): CpuSample {
  const u = process.cpuUsage();
  return {
    server: processCpuSeconds(o.serverPid),
    postgres: postgresBackendCpuSeconds(o.pgDb),
    machine: machineBusySeconds(),
    self: (u.user + u.system) / 1e6,
    at: performance.now(),
  };
}

function log(msg: string): void {
  console.log(`[sim] ${msg}`);
}

const rest = <T>(o: Options, token: string, method: string, path: string, body?: unknown) => restCall<T>(o.http, token, method, path, body);

// ---------------------------------------------------------------------------------------------
// the certificates every agent reports

/**
 * M distinct real certificates (a private CA, leaves alternating EC P-256 / RSA 2048, with SANs and
 * lifetimes from a week to a few years), one PEM file each, read back with the agent's own
 * discovery so every CertificateFinding field is filled exactly as a real agent fills it.
 */
async function makeFindings(dir: string, m: number): Promise<DiscoveredCertificate[]> {
  const certDir = join(dir, 'certs');
  const work = join(dir, 'work');
  mkdirSync(certDir, { recursive: true });
  mkdirSync(work, { recursive: true });
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '3650', '-subj', '/C=US/O=Fleet Bench/CN=Fleet Bench Issuing CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (let i = 0; i < m; i++) {
    const name = `svc-${String(i).padStart(3, '0')}`;
    const key = i % 4 === 3 ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    ossl('req', '-new', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
      '-subj', `/C=US/O=Fleet Bench/OU=ops/CN=${name}.bench.example`,
      '-addext', `subjectAltName=DNS:${name}.bench.example,DNS:www.${name}.bench.example,IP:10.0.${i >> 8}.${i & 255}`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', String(7 + i * 53), '-copy_extensions', 'copy', '-out', join(certDir, `${name}.pem`));
  }
  const scan = await scanPaths([certDir], { passwords: [] });
  if (scan.certificates.length !== m || scan.problems.length) {
    throw new Error(`discovery found ${scan.certificates.length} certificates and ${scan.problems.length} problems in ${certDir}, expected ${m}`);
  }
  return scan.certificates;
}

/** One agent's full inventory: the same certificates, at paths of its own, keyed as the agent keys them. */
function agentItems(findings: DiscoveredCertificate[], agent: number): InventoryItem[] {
  return findings.map((c) => {
    const file = c.file ? { ...c.file, path: c.file.path.replace(/^.*\/certs\//, `/etc/ssl/fleet-bench/host-${agent}/`) } : undefined;
    const copy = { ...c, file };
    const { publicKeySha256: _internal, ...finding } = copy;
    return { key: certificateKey(copy), item: { $case: 'certificate' as const, value: finding } };
  });
}

// ---------------------------------------------------------------------------------------------
// simulated agents

type Stream = ClientDuplexStream<AgentMessage, ServerMessage>;

class SimAgent {
  client?: AgentServiceClient;
  stream?: Stream;
  welcome?: Welcome;
  heartbeat?: NodeJS.Timeout;
  heartbeatsSent = 0;
  private waiting?: { kind: 'welcome' | 'ack'; resolve: (m: Welcome | ReportAck) => void; reject: (e: Error) => void };
  streamError?: Error;

  constructor(readonly index: number, readonly identity: AgentIdentity) {}

  get hostname(): string {
    return `bench-host-${String(this.index).padStart(5, '0')}`;
  }

  connect(baseFacts: HostFacts, heartbeats: boolean, timeoutMs: number): Promise<Welcome> {
    const id = this.identity;
    // The same channel options as the real agent's session (apps/agent/src/session/agent-session.ts).
    this.client = new AgentServiceClient(id.server, channelCredentials(id.caCertificatesPem, id), {
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      ...targetNameOptions(id.server),
    });
    const stream = this.client.connect();
    this.stream = stream;
    stream.on('data', (msg: ServerMessage) => this.onMessage(msg));
    stream.on('error', (err: ServiceError) => this.onClosed(new Error(`stream error: ${err.code} ${err.details || err.message}`)));
    stream.on('end', () => this.onClosed(new Error('stream closed by the server')));
    const facts: HostFacts = { ...baseFacts, hostname: this.hostname, machineId: id.agentId.replace(/-/g, ''), ipAddresses: [`10.${this.index >> 16 & 255}.${this.index >> 8 & 255}.${this.index & 255}`] };
    const welcome = this.expect<Welcome>('welcome', timeoutMs);
    stream.write({ payload: { $case: 'hello', value: { host: facts, lastSequence: 0n } } });
    return welcome.then((w) => {
      this.welcome = w;
      if (heartbeats) {
        // As the real agent does: a heartbeat every heartbeatIntervalSeconds once welcomed.
        this.heartbeat = setInterval(() => {
          this.heartbeatsSent++;
          this.stream?.write({ payload: { $case: 'heartbeat', value: { sentAt: new Date() } } });
        }, Math.max(1, w.heartbeatIntervalSeconds) * 1000);
      }
      return w;
    });
  }

  /** Sends the report now and resolves with the server's ack. */
  report(report: InventoryReport, timeoutMs: number): Promise<ReportAck> {
    const ack = this.expect<ReportAck>('ack', timeoutMs);
    this.stream!.write({ payload: { $case: 'report', value: report } });
    return ack;
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.waiting = undefined;
    this.stream?.removeAllListeners();
    this.stream?.on('error', () => undefined);
    this.stream?.cancel();
    this.client?.close();
  }

  private expect<T extends Welcome | ReportAck>(kind: 'welcome' | 'ack', timeoutMs: number): Promise<T> {
    if (this.streamError) return Promise.reject(this.streamError);
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        this.waiting = { kind, resolve: resolve as (m: Welcome | ReportAck) => void, reject };
      }),
      timeoutMs,
      `agent ${this.index}: waiting for ${kind}`,
    );
  }

  private onMessage(msg: ServerMessage): void {
    const p = msg.payload;
    if (!p || p.$case === 'scan') return;
    const w = this.waiting;
    if (w && w.kind === p.$case) {
      this.waiting = undefined;
      w.resolve(p.value);
    }
  }

  private onClosed(err: Error): void {
    this.streamError ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(new Error(`agent ${this.index}: ${err.message}`));
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const { agents: n, certs: m } = o;
  const adminToken = readFileSync(join(o.dataDir, 'admin-token'), 'utf8').trim();
  const work = mkdtempSync(join(tmpdir(), 'certfleet-fleet-ingest-'));
  const sims: SimAgent[] = [];
  try {
    log(`${n} agents x ${m} certificates against ${o.grpc} (REST ${o.http}), concurrency ${o.concurrency}`);

    // 0. the certificates (not timed)
    const findings = await makeFindings(work, m);
    log(`generated ${m} certificates with openssl and read them back with the agent's discovery`);

    // 1. enrollment tokens through the REST API
    let t = performance.now();
    const indexes = Array.from({ length: n }, (_, i) => i);
    const tokens = await withTimeout(
      pool(indexes, o.concurrency, async () =>
        (await rest<{ token: string }>(o, adminToken, 'POST', '/api/v1/enrollment-tokens', { ttlSeconds: 3600, description: 'fleet-ingest bench' })).token,
      ),
      o.phaseTimeoutMs,
      'creating enrollment tokens',
    );
    const tokenSeconds = (performance.now() - t) / 1000;
    log(`created ${n} enrollment tokens in ${tokenSeconds.toFixed(2)} s`);

    // 2. enrollment: the agent's own enroll() (pin the CA, make key + CSR, Enroll RPC, store identity)
    const enrollCpu = sampleCpu(o);
    t = performance.now();
    const identities = await withTimeout(
      pool(indexes, o.concurrency, (i) =>
        enroll({ server: o.grpc, token: tokens[i], caFingerprint: o.fingerprint, stateDir: join(work, 'agents', String(i)), timeoutMs: 60_000 }),
      ),
      o.phaseTimeoutMs,
      'enrolling agents',
    );
    const enrollSeconds = (performance.now() - t) / 1000;
    const enrollCpuAfter = sampleCpu(o);
    if (new Set(identities.map((x) => x.agentId)).size !== n) throw new Error('enrollment returned duplicate agent ids');
    log(`enrolled ${n} agents in ${enrollSeconds.toFixed(2)} s`);

    // 3. one Connect stream per agent, each on its own channel with its own client certificate
    const baseFacts = collectHostFacts();
    for (let i = 0; i < n; i++) sims.push(new SimAgent(i, identities[i]));
    t = performance.now();
    await withTimeout(
      pool(sims, Math.max(o.concurrency, 64), (s) => s.connect(baseFacts, o.heartbeats, 60_000)),
      o.phaseTimeoutMs,
      'connecting agents',
    );
    const connectSeconds = (performance.now() - t) / 1000;
    const notFresh = sims.filter((s) => !s.welcome!.fullSyncRequired || s.welcome!.appliedSequence !== 0n).length;
    if (notFresh) throw new Error(`${notFresh} agents were welcomed without a full-sync request (not freshly enrolled?)`);
    log(`${n} Connect streams welcomed in ${connectSeconds.toFixed(2)} s`);

    // 4. timed: every agent sends its full sync at once; stop when all N acks are in
    const reports = sims.map((s): InventoryReport => ({
      sequence: s.welcome!.appliedSequence + 1n,
      fullSyncStart: true,
      fullSyncEnd: true,
      upserts: agentItems(findings, s.index),
      removedKeys: [],
      scannedAt: new Date(),
      stats: { filesSeen: m, certificates: m, privateKeys: 0, problems: 0, durationMs: 40 },
    }));
    const serverRssBefore = statusMb(o.serverPid, 'VmRSS');
    global.gc?.();
    await new Promise((r) => setTimeout(r, 200));
    const before = sampleCpu(o);
    const windowStart = process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC, as V8's .cpuprofile timestamps
    const latencies: number[] = [];
    const acks = await withTimeout(
      Promise.all(
        sims.map((s, i) =>
          s.report(reports[i], o.phaseTimeoutMs).then((ack) => {
            latencies.push(performance.now() - before.at);
            return ack;
          }),
        ),
      ),
      o.phaseTimeoutMs,
      'ingest',
    );
    const after = sampleCpu(o);
    log(`ingest window (CLOCK_MONOTONIC us, for profile.js): ${windowStart} ${process.hrtime.bigint() / 1000n}`);
    const ingestSeconds = (after.at - before.at) / 1000;
    const refused = acks.filter((a, i) => a.error || a.fullSyncRequired || a.sequence !== reports[i].sequence);
    if (refused.length) throw new Error(`${refused.length} reports were not applied, e.g. ${JSON.stringify(refused[0], (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    log(`${n} reports (${n * m} certificates) acknowledged in ${ingestSeconds.toFixed(2)} s`);

    // 5. check through the REST API that the server holds what was sent
    t = performance.now();
    const certs = await rest<{ total: number }>(o, adminToken, 'GET', '/api/v1/certificates?limit=1');
    const fleet = await rest<Array<{ id: string; hostname: string; certificates: number }>>(o, adminToken, 'GET', '/api/v1/agents');
    const verifySeconds = (performance.now() - t) / 1000;
    const ids = new Set(identities.map((x) => x.agentId));
    const ours = fleet.filter((a) => ids.has(a.id));
    const wrongCounts = ours.filter((a) => a.certificates !== m);
    const wrongNames = ours.filter((a, _i) => !/^bench-host-\d+$/.test(a.hostname));
    const ok = certs.total === n * m && fleet.length === n && ours.length === n && !wrongCounts.length && !wrongNames.length;
    log(
      `verify: GET /certificates total=${certs.total} (want ${n * m}); GET /agents: ${fleet.length} agents (want ${n}), ` +
        `${wrongCounts.length} with a certificate count other than ${m}, ${wrongNames.length} without their Hello hostname ` +
        `(${verifySeconds.toFixed(2)} s) -> ${ok ? 'OK' : 'MISMATCH'}`,
    );

    latencies.sort((a, b) => a - b);
    const heartbeats = sims.reduce((s, a) => s + a.heartbeatsSent, 0);
    log(`heartbeats sent during the run: ${heartbeats}`);
    metric('fleet_agents', n);
    metric('fleet_certs_per_agent', m);
    metric('fleet_token_create_seconds', tokenSeconds);
    metric('fleet_enroll_seconds', enrollSeconds);
    metric('fleet_enroll_per_s', n / enrollSeconds, 1);
    metric('fleet_enroll_server_cpu_seconds', enrollCpuAfter.server - enrollCpu.server);
    metric('fleet_connect_seconds', connectSeconds);
    metric('fleet_ingest_seconds', ingestSeconds);
    metric('fleet_ingest_certs_per_s', (n * m) / ingestSeconds, 0);
    metric('fleet_ingest_reports_per_s', n / ingestSeconds, 0);
    metric('fleet_ack_latency_p50_ms', pct(latencies, 50), 0);
    metric('fleet_ack_latency_p99_ms', pct(latencies, 99), 0);
    metric('fleet_ingest_server_cpu_seconds', after.server - before.server);
    if (o.pgDb) metric('fleet_ingest_postgres_cpu_seconds', after.postgres - before.postgres);
    metric('fleet_ingest_simulator_cpu_seconds', after.self - before.self);
    metric('fleet_ingest_machine_cpu_seconds', after.machine - before.machine);
    metric('fleet_server_cpu_seconds_total', after.server);
    metric('fleet_server_rss_before_ingest_mb', serverRssBefore, 1);
    metric('fleet_server_peak_rss_mb', statusMb(o.serverPid, 'VmHWM'), 1);
    metric('fleet_server_rss_after_mb', statusMb(o.serverPid, 'VmRSS'), 1);
    metric('fleet_simulator_peak_rss_mb', statusMb('self', 'VmHWM'), 1);
    metric('fleet_verified', ok ? 1 : 0);
    if (!ok) process.exitCode = 1;
  } finally {
    for (const s of sims) s.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => setTimeout(() => process.exit(), 100).unref(),
  (err) => {
    console.error(`[sim] FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
