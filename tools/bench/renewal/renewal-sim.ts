// Renewal benchmark: N real agents (the agent's own AgentRunner: session, job runner, discovery),
// spread over a few host processes (so no single event loop holds a thousand hosts), each holding one managed certificate from the server's internal issuing CA, installed
// as fullchain + key files and validated by a real TLS handshake against a loopback server that
// serves each host's installed files by SNI (as a proxy that picks up new files does). Each round
// makes every certificate due at once (renew-now --all) and waits until all are renewed, installed
// and validated. Figures come from the server's job records: due -> job made -> signed -> finished
// (the agent reports after validation). Prints METRIC lines.
// Run through run.sh, which starts the control server; usage (bundled with esbuild):
//   node renewal-sim.js --http URL --grpc HOST:PORT --fingerprint FP --data-dir DIR --server-pid PID
//                       [--agents N] [--rounds R] [--concurrency C] [--phase-timeout S]
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createSecureContext, createServer, SecureContext, Server } from 'node:tls';
import { fork, ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { enroll } from '../../../apps/agent/src/enroll/enroll';
import type { Logger } from '../../../apps/agent/src/log';
import { AgentRunner } from '../../../apps/agent/src/run/agent-runner';
import { metric, pct, pool, processCpuSeconds, rest as restCall, statusMb, withTimeout, readSimulatorArgs, SimulatorArgs } from '../lib/sim-support';

interface Options extends SimulatorArgs {
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const { args, get } = readSimulatorArgs(argv);
  return {
    ...args,
    rounds: Number(get('rounds') ?? 1),
  };
}

interface ManagedRow {
  id: string;
  name: string;
  status: string;
  currentSerial: string | null;
  lastError: string | null;
}

interface JobTimes {
  reason: string;
  state: string;
  dueAt: string;
  createdAt: string;
  issuedAt: string | null;
  finishedAt: string | null;
  agentDurationMs: number | null;
}

const log = (msg: string) => console.log(`[renewal] ${msg}`);
const hostName = (i: number) => `h${i}.renewal.bench`;
const ms = (a: string | null, b: string | null) => (a && b ? new Date(b).getTime() - new Date(a).getTime() : NaN);

/** One TLS listener for every simulated host: serves what is installed in that host's files now. */
function startSniServer(hostsDir: string): Promise<{ server: Server; port: number }> {
  const contexts = new Map<string, { version: string; context: SecureContext }>();
  const server = createServer({
    SNICallback: (name, cb) => {
      const m = /^h(\d+)\.renewal\.bench$/.exec(name);
      if (!m) return cb(new Error(`unknown name ${name}`));
      try {
        const dir = join(hostsDir, m[1]);
        // A new install is a new file (renamed into place): its inode and mtime say when to reload.
        const st = statSync(join(dir, 'fullchain.pem'));
        const version = `${st.ino}/${st.mtimeMs}`;
        let cached = contexts.get(name);
        if (cached?.version !== version) {
          cached = { version, context: createSecureContext({ cert: readFileSync(join(dir, 'fullchain.pem')), key: readFileSync(join(dir, 'key.pem')) }) };
          contexts.set(name, cached);
        }
        cb(null, cached.context);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  server.on('tlsClientError', () => undefined); // validation probes end the connection after the handshake
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const n = o.agents;
  const token = readFileSync(join(o.dataDir, 'admin-token'), 'utf8').trim();
  const rest = <T>(method: string, path: string, body?: unknown) => restCall<T>(o.http, token, method, path, body);
  // The hosts' files live on tmpfs when there is one: on a real fleet every host has its own disk,
  // here 1,000 hosts would otherwise queue their fsyncs on one.
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'certfleet-renewal-'));
  const hosts: ChildProcess[] = [];
  let sni: Server | undefined;
  const problems: string[] = [];
  try {
    log(`${n} agents, ${o.rounds} round(s), against ${o.grpc} (REST ${o.http})`);
    const ca = await rest<{ id: string }>('POST', '/api/v1/issuing-cas/quick-start', { name: 'renewal-bench' });

    // 1. enroll and start the agents in host processes (the agent's own code; discovery watches
    // each host's directory)
    const indexes = Array.from({ length: n }, (_, i) => i);
    const tokens = await pool(indexes, o.concurrency, async () => (await rest<{ token: string }>('POST', '/api/v1/enrollment-tokens', { ttlSeconds: 3600, description: 'renewal bench' })).token);
    const hostsDir = join(work, 'hosts');
    const processes = Math.min(HOST_PROCESSES, n);
    const agentIds = new Array<string>(n);
    await withTimeout(
      Promise.all(
        Array.from({ length: processes }, (_, p) => {
          const mine = indexes.filter((i) => i % processes === p);
          const child = fork(process.argv[1], ['--host-process'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          hosts.push(child);
          return new Promise<void>((resolve, reject) => {
            child.on('message', (m: HostMessage) => {
              if (m.kind === 'ready') {
                m.agentIds.forEach((id, k) => (agentIds[mine[k]] = id));
                resolve();
              } else if (m.kind === 'problem') problems.push(m.text);
              else if (m.kind === 'failed') reject(new Error(`host process ${p}: ${m.text}`));
            });
            child.on('exit', (code) => reject(new Error(`host process ${p} exited (${code})`)));
            child.send({ kind: 'start', grpc: o.grpc, fingerprint: o.fingerprint, work, hosts: mine.map((i) => ({ index: i, token: tokens[i] })) } satisfies StartHosts);
          });
        }),
      ),
      o.phaseTimeoutMs,
      'enrolling and starting agents',
    );
    const tls = await startSniServer(hostsDir);
    sni = tls.server;
    log(`enrolled and started ${n} agents in ${processes} host process(es); TLS endpoint for validation on 127.0.0.1:${tls.port}`);

    // 2. one managed certificate per agent; the first issuance (not the benchmark figure)
    let t = performance.now();
    const ids = await withTimeout(
      pool(indexes, o.concurrency, async (i) => {
        const dir = join(hostsDir, String(i));
        const body = {
          name: `renewal-${i}`,
          agentId: agentIds[i],
          issuer: ca.id,
          profile: { dnsNames: [hostName(i)], validityDays: 30 },
          targets: [{ kind: 'fullchain-pem', path: join(dir, 'fullchain.pem'), keyPath: join(dir, 'key.pem') }],
          validation: { host: '127.0.0.1', port: tls.port, serverName: hostName(i) },
        };
        return (await rest<ManagedRow>('POST', '/api/v1/managed-certificates', body)).id;
      }),
      o.phaseTimeoutMs,
      'creating managed certificates',
    );
    let current = await waitUntilRenewed(new Map(ids.map((id) => [id, null])), 'first issuance');
    log(`first issuance of ${n} certificates done ${((performance.now() - t) / 1000).toFixed(2)} s after the first was created`);

    // 3. rounds: all due at once
    const latencies: number[] = [];
    const toCreated: number[] = [];
    const toSigned: number[] = [];
    const toFinished: number[] = [];
    const agentMs: number[] = [];
    const fleetSeconds: number[] = [];
    const cpu0 = processCpuSeconds(o.serverPid);
    const self0 = process.cpuUsage();
    const hostsCpu = () => hosts.reduce((sum, h) => sum + processCpuSeconds(h.pid!), 0);
    const hosts0 = hostsCpu();
    for (let round = 1; round <= o.rounds; round++) {
      t = performance.now();
      const asked = await rest<{ requested: number; alreadyRunning: number }>('POST', '/api/v1/managed-certificates/renew', { all: true });
      if (asked.requested !== n) throw new Error(`round ${round}: renew-now made ${asked.requested} due, expected ${n} (${asked.alreadyRunning} had a job running)`);
      current = await waitUntilRenewed(current, `round ${round}`);
      const wall = (performance.now() - t) / 1000;
      const jobs = await pool(ids, o.concurrency, async (id) => (await rest<{ jobs: JobTimes[] }>('GET', `/api/v1/managed-certificates/${id}`)).jobs[0]);
      for (const j of jobs) {
        if (j.state !== 'succeeded') throw new Error(`round ${round}: a job ended ${j.state}`);
        latencies.push(ms(j.dueAt, j.finishedAt));
        toCreated.push(ms(j.dueAt, j.createdAt));
        toSigned.push(ms(j.createdAt, j.issuedAt));
        toFinished.push(ms(j.issuedAt, j.finishedAt));
        agentMs.push(j.agentDurationMs ?? NaN);
      }
      const firstDue = Math.min(...jobs.map((j) => new Date(j.dueAt).getTime()));
      const lastDone = Math.max(...jobs.map((j) => new Date(j.finishedAt!).getTime()));
      fleetSeconds.push((lastDone - firstDue) / 1000);
      log(`round ${round}: ${n} renewed, installed and validated; due -> last finished ${((lastDone - firstDue) / 1000).toFixed(2)} s (seen by polling after ${wall.toFixed(2)} s)`);
    }
    const serverCpu = processCpuSeconds(o.serverPid) - cpu0;
    const self = process.cpuUsage(self0);
    const hostsSpent = hostsCpu() - hosts0;

    // 4. every host's files hold the certificate the server says is current, and the endpoint serves it
    let mismatched = 0;
    for (const i of indexes) {
      const installed = new X509Certificate(readFileSync(join(hostsDir, String(i), 'fullchain.pem')));
      if (installed.serialNumber.toLowerCase().replace(/^0+/, '') !== (current.get(ids[i]) ?? '').replace(/^0+/, '')) mismatched++;
    }
    log(`installed files match the server's current serial on ${n - mismatched} of ${n} hosts`);

    const sorted = (a: number[]) => a.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
    const lat = sorted(latencies);
    metric('renewal_agents', n);
    metric('renewal_rounds', o.rounds);
    metric('renewal_latency_p50_ms', pct(lat, 50), 0);
    metric('renewal_latency_p95_ms', pct(lat, 95), 0);
    metric('renewal_latency_max_ms', lat[lat.length - 1], 0);
    metric('renewal_due_to_job_p50_ms', pct(sorted(toCreated), 50), 0);
    metric('renewal_job_to_signed_p50_ms', pct(sorted(toSigned), 50), 0);
    metric('renewal_signed_to_validated_p50_ms', pct(sorted(toFinished), 50), 0);
    metric('renewal_agent_job_duration_p50_ms', pct(sorted(agentMs), 50), 0);
    metric('renewal_fleet_all_done_seconds', Math.max(...fleetSeconds));
    metric('renewal_server_cpu_seconds', serverCpu);
    metric('renewal_simulated_hosts_cpu_seconds', hostsSpent);
    metric('renewal_coordinator_and_tls_endpoint_cpu_seconds', (self.user + self.system) / 1e6);
    metric('renewal_server_peak_rss_mb', statusMb(o.serverPid, 'VmHWM'), 1);
    metric('renewal_host_processes_rss_mb', hosts.reduce((sum, h) => sum + statusMb(h.pid!, 'VmRSS'), 0), 1);
    metric('renewal_verified', mismatched === 0 ? 1 : 0);
    if (problems.length) log(`agent warnings/errors: ${problems.length}, e.g. ${problems.slice(0, 3).join(' | ')}`);
    if (mismatched) process.exitCode = 1;
  } finally {
    for (const h of hosts) {
      h.removeAllListeners('exit');
      h.kill('SIGTERM');
    }
    sni?.close();
    rmSync(work, { recursive: true, force: true });
  }

  /** Polls the server until every certificate is active with a serial other than the one given. */
  async function waitUntilRenewed(previous: Map<string, string | null>, what: string): Promise<Map<string, string | null>> {
    const deadline = Date.now() + o.phaseTimeoutMs;
    for (;;) {
      const rows = await rest<ManagedRow[]>('GET', '/api/v1/managed-certificates');
      const ours = rows.filter((r) => previous.has(r.id));
      const failing = ours.find((r) => r.status === 'failing' || r.lastError);
      if (failing) throw new Error(`${what}: ${failing.name} failed: ${failing.lastError}`);
      if (ours.length === previous.size && ours.every((r) => r.status === 'active' && r.currentSerial && r.currentSerial !== previous.get(r.id))) {
        return new Map(ours.map((r) => [r.id, r.currentSerial]));
      }
      if (Date.now() > deadline) throw new Error(`${what} did not finish within ${o.phaseTimeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, n > 50 ? 200 : 20));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// host processes: enroll their agents and run them until told to stop

const HOST_PROCESSES = 4;

interface StartHosts {
  kind: 'start';
  grpc: string;
  fingerprint: string;
  work: string;
  hosts: Array<{ index: number; token: string }>;
}

type HostMessage = { kind: 'ready'; agentIds: string[] } | { kind: 'problem'; text: string } | { kind: 'failed'; text: string };

function runHostProcess(): void {
  const runners: AgentRunner[] = [];
  const send = (m: HostMessage) => process.send?.(m);
  const agentLog: Logger = (level, message) => {
    if (level === 'warn' || level === 'error') send({ kind: 'problem', text: `${level}: ${message}` });
  };
  process.on('SIGTERM', () => {
    for (const r of runners) r.stop();
    process.exit(0);
  });
  process.on('disconnect', () => process.exit(0)); // the coordinator is gone
  process.once('message', (m: StartHosts) => {
    pool(m.hosts, 16, async ({ index, token }) => {
      const stateDir = join(m.work, 'state', String(index));
      const identity = await enroll({ server: m.grpc, token, caFingerprint: m.fingerprint, stateDir, timeoutMs: 60_000 });
      const hostDir = join(m.work, 'hosts', String(index));
      mkdirSync(hostDir, { recursive: true, mode: 0o700 });
      const runner = new AgentRunner({ stateDir, scanRoots: [hostDir], passwords: [], maxFileSize: 1024 * 1024, scanIntervalSeconds: 3600, exclude: [] }, agentLog);
      runners.push(runner);
      runner.start();
      return identity.agentId;
    }).then(
      (agentIds) => send({ kind: 'ready', agentIds }),
      (err) => send({ kind: 'failed', text: (err as Error).message }),
    );
  });
}

if (process.argv.includes('--host-process')) runHostProcess();
else main().then(
  () => setTimeout(() => process.exit(), 100).unref(),
  (err) => {
    console.error(`[renewal] FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
