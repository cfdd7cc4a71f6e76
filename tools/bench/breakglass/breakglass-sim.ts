// Break-glass benchmark: N simulated agents (job-agent.ts: own enrollment, key, mTLS identity and
// Connect stream each; certificate jobs handled in memory), spread over a few host processes, hold
// one managed certificate each from a quick-start issuing CA. Then the CA is declared compromised:
// POST /api/v1/breakglass/run, and the clock runs until the campaign has validated every
// replacement. Checked afterwards on every agent: the certificate it holds was issued by the new CA
// (issuer = the replacement CA's subject, signature verified), is for its own key, and is not the one
// it held before; the old CA is 'revoked'. Prints METRIC lines.
// Run through run.sh, which starts the control server; usage (bundled with esbuild):
//   node breakglass-sim.js --http URL --grpc HOST:PORT --fingerprint FP --data-dir DIR --server-pid PID
//       [--agents N] [--concurrency C] [--processes P] [--campaigns default,5000@nohb,...] [--pg-db NAME]
//       [--no-heartbeats | --quiet-setup] [--phase-timeout S] [--campaign-timeout S] [--idle-seconds S]
// Heartbeats: on throughout by default (as real agents); --no-heartbeats: never; --quiet-setup: off
// while the fleet is set up, on from the first campaign. A campaign entry "C@nohb" pauses them for
// that campaign.
import { ChildProcess, fork } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { enroll } from '../../../apps/agent/src/enroll/enroll';
import { collectHostFacts } from '../../../apps/agent/src/host/host-facts';
import type { AgentIdentity } from '../../../apps/agent/src/state/identity';
import { machineBusySeconds, metric, pct, pool, postgresBackendCpuSeconds, processCpuSeconds, readSimulatorArgs, rest as restCall, SimulatorArgs, statusMb, withTimeout } from '../lib/sim-support';
import { JobAgent, JobCounters, newCounters } from './job-agent';

interface Options extends SimulatorArgs {
  processes: number;
  /** One campaign each, on the same fleet; concurrency undefined: the server's default. */
  campaigns: Array<{ concurrency: number | undefined; heartbeats: boolean; label: string }>;
  pgDb: string;
  heartbeats: 'on' | 'off' | 'after-setup';
  campaignTimeoutMs: number;
  idleSeconds: number;
  /** Directory the server's query-stats.js preload writes its timings to ('' when not loaded). */
  queryStats: string;
}

function parseArgs(argv: string[]): Options {
  const { args, get } = readSimulatorArgs(argv);
  const heartbeats = argv.includes('--no-heartbeats') ? 'off' : argv.includes('--quiet-setup') ? 'after-setup' : 'on';
  const campaigns = (get('campaigns') ?? 'default').split(',').map((entry) => {
    const [c, flag] = entry.trim().split('@');
    const concurrency = c === 'default' ? undefined : Number(c);
    if ((concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) || (flag !== undefined && flag !== 'nohb')) {
      throw new Error(`--campaigns takes "default" or whole numbers, each optionally followed by @nohb, comma-separated: got "${entry}"`);
    }
    return { concurrency, heartbeats: heartbeats !== 'off' && flag !== 'nohb', label: entry.trim() };
  });
  return {
    ...args,
    processes: Number(get('processes') ?? 4),
    campaigns,
    pgDb: get('pg-db') ?? '',
    heartbeats,
    campaignTimeoutMs: Number(get('campaign-timeout') ?? 600) * 1000,
    idleSeconds: Number(get('idle-seconds') ?? 10),
    queryStats: get('query-stats') ?? '',
  };
}

const log = (msg: string) => console.log(`[breakglass] ${new Date().toISOString().slice(11, 19)} ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** CLOCK_MONOTONIC microseconds, as the timestamps of a .cpuprofile (run.sh --profile summarises each window). */
const monoUs = () => process.hrtime.bigint() / 1000n;
const profileWindow = (name: string, from: bigint) => log(`profile window ${name}: ${from} ${monoUs()}`);

// ---------------------------------------------------------------------------------------------
// coordinator <-> host processes

type ToHost =
  | { kind: 'enroll'; id: number; grpc: string; fingerprint: string; work: string; hosts: Array<{ index: number; token: string }>; concurrency: number }
  | { kind: 'connect'; id: number; heartbeats: boolean; concurrency: number; timeoutMs: number }
  | { kind: 'mark'; id: number }
  | { kind: 'heartbeats'; id: number; on: boolean }
  | { kind: 'stats'; id: number; durations: boolean }
  | { kind: 'verify'; id: number; caPem: string };

interface HostStats {
  counters: Omit<JobCounters, 'durationsMs'> & { durationsMs?: number[] };
  streams: number;
  cpuSeconds: number;
  rssMb: number;
  peakRssMb: number;
}

interface HostVerify {
  /** By the agent's global index: the serial it holds ('' if none). */
  serials: Array<[number, string]>;
  noCertificate: number;
  wrongIssuer: number;
  notSignedByCa: number;
  keyMismatch: number;
  unchanged: number;
}

type FromHost =
  | { kind: 'reply'; id: number; value: unknown }
  | { kind: 'failed'; id: number; text: string }
  | { kind: 'progress'; text: string };

class Host {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly child: ChildProcess;

  constructor(readonly n: number, readonly indexes: number[]) {
    this.child = fork(process.argv[1], ['--host-process'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
    this.child.on('message', (m: FromHost) => {
      if (m.kind === 'progress') return log(`host ${n}: ${m.text}`);
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.kind === 'reply') w?.resolve(m.value);
      else w?.reject(new Error(`host process ${n}: ${m.text}`));
    });
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`host process ${n} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  ask<T>(msg: DistributiveOmit<ToHost, 'id'>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...msg, id });
    });
  }
}

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

// ---------------------------------------------------------------------------------------------
// the coordinator

interface ManagedRow {
  id: string;
  name: string;
  agentId: string;
  status: string;
  currentSerial: string | null;
  lastError: string | null;
  issuer: { issuingCaId: string | null };
}

interface CaView {
  id: string;
  name: string;
  status: string;
  subject: string | null;
  certificatePem?: string | null;
}

interface Progress {
  campaign: { id: string; status: string; startedAt: string | null; completedAt: string | null; concurrency: number; revokedCount: number; replacementCaId: string | null; compromisedCaId: string | null };
  counts: { pending: number; replacing: number; validated: number; manual: number; cancelled: number; total: number; failing: number };
  percent: number;
  secondsTo100: number | null;
  pendingHosts: Array<{ hostname: string; items: number; lastError: string | null }>;
}

interface Report extends Progress {
  items: Array<{ hostname: string; state: string; oldSerial: string | null; newSerial: string | null; lastError: string | null; startedAt: string | null; finishedAt: string | null }>;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const n = o.agents;
  const token = readFileSync(join(o.dataDir, 'admin-token'), 'utf8').trim();
  const rest = <T>(method: string, path: string, body?: unknown) => restCall<T>(o.http, token, method, path, body);
  // Enrollment identities (the agent's own enroll() stores them) go to tmpfs when there is one.
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'certfleet-breakglass-'));
  const hosts: Host[] = [];
  let failed = false;
  try {
    log(`${n} simulated agents in ${Math.min(o.processes, n)} host process(es) against ${o.grpc} (REST ${o.http}); campaigns: ${o.campaigns.map((c) => c.label).join(', ')}; heartbeats ${o.heartbeats}`);
    const ca = await rest<CaView>('POST', '/api/v1/issuing-cas/quick-start', { name: 'breakglass-bench' });

    // 1. enrollment tokens, enrollment (the agent's own enroll()), one Connect stream per agent
    const indexes = Array.from({ length: n }, (_, i) => i);
    let t = performance.now();
    let w = monoUs();
    // Server CPU seconds of each set-up phase, to tell a busy server from a waiting one.
    let serverCpu = processCpuSeconds(o.serverPid);
    const phaseCpu = () => {
      const now = processCpuSeconds(o.serverPid);
      const spent = now - serverCpu;
      serverCpu = now;
      return spent;
    };
    const setupCpu: Record<string, number> = {};
    const tokens = await withTimeout(
      pool(indexes, o.concurrency, async () => (await rest<{ token: string }>('POST', '/api/v1/enrollment-tokens', { ttlSeconds: 7200, description: 'break-glass bench' })).token),
      o.phaseTimeoutMs,
      'creating enrollment tokens',
    );
    const tokenSeconds = (performance.now() - t) / 1000;
    log(`created ${n} enrollment tokens in ${tokenSeconds.toFixed(1)} s`);
    profileWindow('tokens', w);
    setupCpu.token = phaseCpu();
    const processes = Math.min(o.processes, n);
    for (let p = 0; p < processes; p++) hosts.push(new Host(p, indexes.filter((i) => i % processes === p)));
    t = performance.now();
    w = monoUs();
    const agentIds = new Array<string>(n);
    const perHost = Math.max(1, Math.round(o.concurrency / processes));
    await withTimeout(
      Promise.all(
        hosts.map(async (h) => {
          const ids = await h.ask<string[]>({ kind: 'enroll', grpc: o.grpc, fingerprint: o.fingerprint, work, hosts: h.indexes.map((i) => ({ index: i, token: tokens[i] })), concurrency: perHost });
          ids.forEach((id, k) => (agentIds[h.indexes[k]] = id));
        }),
      ),
      o.phaseTimeoutMs,
      'enrolling agents',
    );
    const enrollSeconds = (performance.now() - t) / 1000;
    log(`enrolled ${n} agents in ${enrollSeconds.toFixed(1)} s`);
    profileWindow('enroll', w);
    setupCpu.enroll = phaseCpu();
    t = performance.now();
    w = monoUs();
    await withTimeout(
      Promise.all(hosts.map((h) => h.ask({ kind: 'connect', heartbeats: o.heartbeats === 'on', concurrency: Math.max(16, perHost * 2), timeoutMs: 120_000 }))),
      o.phaseTimeoutMs,
      'connecting agents',
    );
    const connectSeconds = (performance.now() - t) / 1000;
    log(`${n} Connect streams welcomed in ${connectSeconds.toFixed(1)} s`);
    profileWindow('connect', w);
    setupCpu.connect = phaseCpu();


    // 2. one managed certificate per agent from the quick-start CA; first issuance (informational)
    const beforeIssuance = await allStats(hosts, false);
    t = performance.now();
    w = monoUs();
    phaseCpu();
    let created = 0;
    const managedIds = await withTimeout(
      pool(indexes, o.concurrency, async (i) => {
        if (++created % 1000 === 0) log(`creating managed certificates: ${created} of ${n} after ${((performance.now() - t) / 1000).toFixed(1)} s`);
        const dir = `/srv/breakglass-bench/h${i}`; // named in the job; the simulated agent writes no files
        const body = {
          name: `bg-${i}`,
          agentId: agentIds[i],
          issuer: ca.id,
          profile: { dnsNames: [`h${i}.breakglass.bench`], validityDays: 30 },
          targets: [{ kind: 'fullchain-pem', path: `${dir}/fullchain.pem`, keyPath: `${dir}/key.pem` }],
        };
        try {
          return (await rest<ManagedRow>('POST', '/api/v1/managed-certificates', body)).id;
        } catch (err) {
          // A kept-alive connection the server closed as the request went out: made or not? Look it up.
          if (!/ECONNRESET|socket/i.test((err as Error).message)) throw err;
          const found = await rest<ManagedRow>('GET', `/api/v1/managed-certificates/${body.name}`).catch(() => null);
          return found ? found.id : (await rest<ManagedRow>('POST', '/api/v1/managed-certificates', body)).id;
        }
      }),
      o.phaseTimeoutMs,
      'creating managed certificates',
    );
    const createSeconds = (performance.now() - t) / 1000;
    log(`created ${n} managed certificates in ${createSeconds.toFixed(1)} s`);
    await waitForAgents(hosts, beforeIssuance, n, o.phaseTimeoutMs, 'first issuance');
    const firstIssuanceSeconds = (performance.now() - t) / 1000;
    const rows = await rest<ManagedRow[]>('GET', '/api/v1/managed-certificates');
    const mine = new Set(managedIds);
    const notActive = rows.filter((r) => mine.has(r.id) && (r.status !== 'active' || !r.currentSerial));
    if (notActive.length) throw new Error(`${notActive.length} managed certificates are not active after the first issuance, e.g. ${JSON.stringify(notActive[0])}`);
    log(`first issuance of ${n} certificates done ${firstIssuanceSeconds.toFixed(1)} s after the first was created`);
    profileWindow('create-and-first-issuance', w);
    setupCpu.first_issuance = phaseCpu();
    metric('breakglass_agents', n);
    metric('breakglass_host_processes', processes);
    metric('breakglass_setup_token_seconds', tokenSeconds);
    metric('breakglass_setup_enroll_seconds', enrollSeconds);
    metric('breakglass_setup_connect_seconds', connectSeconds);
    metric('breakglass_setup_managed_create_seconds', createSeconds);
    metric('breakglass_first_issuance_seconds', firstIssuanceSeconds);
    for (const [phase, cpu] of Object.entries(setupCpu)) metric(`breakglass_setup_${phase}_server_cpu_seconds`, cpu);

    // 3. the campaigns: each declares the current CA compromised
    let issuer = ca;
    for (const [k, c] of o.campaigns.entries()) {
      const suffix = o.campaigns.length > 1 ? `_${k + 1}_c${c.concurrency ?? 'default'}${c.heartbeats ? '' : '_nohb'}` : '';
      const ok = await campaign(issuer, c.concurrency, c.heartbeats, suffix, k + 1);
      if (!ok.verified) failed = true;
      issuer = ok.newCa;
    }
  } finally {
    for (const h of hosts) {
      h.child.removeAllListeners('exit');
      h.child.kill('SIGTERM');
    }
    rmSync(work, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;

  /** Has the server (run.sh --query-stats) write its statement timings since the last signal; prints them. */
  async function printQueryStats(title: string | null): Promise<void> {
    const before = existsSync(o.queryStats) ? readdirSync(o.queryStats).length : 0;
    process.kill(o.serverPid, 'SIGWINCH');
    for (let i = 0; i < 100 && (existsSync(o.queryStats) ? readdirSync(o.queryStats).length : 0) <= before; i++) await sleep(100);
    if (title === null) return;
    const file = join(o.queryStats, `dump-${before + 1}.txt`);
    if (!existsSync(file)) return log(`no statement timings from the server (${file})`);
    log(`SQL statements, ${title}:\n${readFileSync(file, 'utf8').split('\n').slice(0, 25).join('\n')}`);
  }

  async function campaign(oldCa: CaView, concurrency: number | undefined, heartbeats: boolean, suffix: string, round: number): Promise<{ verified: boolean; newCa: CaView }> {
    const label = `campaign ${round} (concurrency ${concurrency ?? 'default'}, heartbeats ${heartbeats ? 'on' : 'off'})`;
    await Promise.all(hosts.map((h) => h.ask({ kind: 'heartbeats', on: heartbeats })));
    // The fleet just holding its streams (heartbeats, if on) before the run: what the server spends on that.
    if (o.idleSeconds > 0) {
      const w = monoUs();
      const s0 = await allStats(hosts, false);
      const idle0 = { server: processCpuSeconds(o.serverPid), at: performance.now() };
      await sleep(o.idleSeconds * 1000);
      const idleServer = processCpuSeconds(o.serverPid) - idle0.server;
      const idleWall = (performance.now() - idle0.at) / 1000;
      const beats = (await allStats(hosts, false)).counters.heartbeats - s0.counters.heartbeats;
      log(`${label}: idle fleet before the run: ${(beats / idleWall).toFixed(0)} heartbeats/s, server CPU ${idleServer.toFixed(2)} s in ${idleWall.toFixed(1)} s`);
      profileWindow(`idle-before-campaign-${round}`, w);
      metric(`breakglass_idle_heartbeats_per_s${suffix}`, beats / idleWall, 0);
      metric(`breakglass_idle_server_cpu_percent${suffix}`, (100 * idleServer) / idleWall, 0);
    }
    await Promise.all(hosts.map((h) => h.ask({ kind: 'mark' })));
    const statsBefore = await allStats(hosts, false);
    global.gc?.();
    await sleep(500);
    const cpu0 = { server: processCpuSeconds(o.serverPid), hosts: statsBefore.cpu, self: process.cpuUsage(), pg: postgresBackendCpuSeconds(o.pgDb), machine: machineBusySeconds() };
    const peaks = { serverRss: statusMb(o.serverPid, 'VmRSS'), hostsRss: statsBefore.rss };
    // RSS sampled every 250 ms while the campaign runs.
    const sampler = setInterval(() => {
      try {
        peaks.serverRss = Math.max(peaks.serverRss, statusMb(o.serverPid, 'VmRSS'));
        peaks.hostsRss = Math.max(peaks.hostsRss, hosts.reduce((s, h) => s + statusMb(h.pid, 'VmRSS'), 0));
      } catch {
        // a process is gone; the campaign loop will notice
      }
    }, 250);
    const windowStart = monoUs();
    const runAt = Date.now();
    const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const loadBefore = load();
    /** Where the agents' side of the pipeline is: jobs in, CSRs out, certificates in, results acknowledged. */
    const agentSide = async () => {
      const s = await allStats(hosts, false);
      const d = (k: 'jobsReceived' | 'csrsSent' | 'certificates' | 'acks' | 'rejected' | 'disconnects') => s.counters[k] - statsBefore.counters[k];
      return `agents: jobs ${d('jobsReceived')}, CSRs ${d('csrsSent')}, certificates ${d('certificates')}, results acked ${d('acks')}, rejected ${d('rejected')}, disconnects ${d('disconnects')}`;
    };
    // Starts the server's statement timings afresh; before the first campaign, shows the set-up's.
    if (o.queryStats) await printQueryStats(round === 1 ? 'set-up (tokens, enrollment, Connect, managed certificates, first issuance, idle)' : null);
    let progress: Progress;
    try {
      log(`${label}: POST /api/v1/breakglass/run for issuing CA "${oldCa.name}"`);
      progress = await rest<Progress>('POST', '/api/v1/breakglass/run', { selector: { issuer: oldCa.id }, confirm: true, ...(concurrency ? { concurrency } : {}) });
      const runRequestSeconds = (Date.now() - runAt) / 1000;
      log(`${label}: campaign ${progress.campaign.id} ${progress.campaign.status}, ${progress.campaign.revokedCount} revoked, answered in ${runRequestSeconds.toFixed(2)} s`);
      metric(`breakglass_run_request_seconds${suffix}`, runRequestSeconds);
      const deadline = runAt + o.campaignTimeoutMs;
      let lastLog = 0;
      while (progress.campaign.status !== 'completed') {
        if (Date.now() > deadline) throw new Error(`${label} not completed within ${o.campaignTimeoutMs / 1000} s: ${JSON.stringify(progress.counts)}`);
        if (progress.campaign.status === 'cancelled') throw new Error(`${label} was cancelled`);
        await sleep(500);
        progress = await rest<Progress>('GET', `/api/v1/breakglass/campaigns/${progress.campaign.id}`);
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          const c = progress.counts;
          log(`${label}: ${((Date.now() - runAt) / 1000).toFixed(1)} s: ${progress.percent}% validated ${c.validated}, replacing ${c.replacing}, pending ${c.pending}, failing ${c.failing}; ${await agentSide()}; server CPU ${(processCpuSeconds(o.serverPid) - cpu0.server).toFixed(1)} s`);
        }
      }
    } catch (err) {
      log(`${label}: agents at the end: ${await agentSide()}`);
      log(`${label}: stream ends by reason (whole run): ${JSON.stringify((await allStats(hosts, false)).disconnectReasons)}`);
      throw err;
    } finally {
      clearInterval(sampler);
      if (o.queryStats) await printQueryStats(`${label}, from the run request`);
    }
    const observedSeconds = (Date.now() - runAt) / 1000;
    const self = process.cpuUsage(cpu0.self);
    const statsAfter = await allStats(hosts, true);
    const cpu1 = { server: processCpuSeconds(o.serverPid), hosts: statsAfter.cpu, pg: postgresBackendCpuSeconds(o.pgDb), machine: machineBusySeconds() };
    log(`${label}: completed (seen ${observedSeconds.toFixed(2)} s after the run request)`);
    profileWindow(`campaign-${round}`, windowStart);

    // What the server recorded: every item's validation time
    const report = await rest<Report>('GET', `/api/v1/breakglass/campaigns/${progress.campaign.id}/report`);
    const validated = report.items.filter((i) => i.state === 'validated');
    const finishedAt = validated.map((i) => new Date(i.finishedAt!).getTime() - runAt).sort((a, b) => a - b);
    const lastValidation = finishedAt[finishedAt.length - 1];
    const startedAtMs = progress.campaign.startedAt ? new Date(progress.campaign.startedAt).getTime() : NaN;

    // The proof, from the agents: the certificate each holds is from the new CA
    const newCa = await rest<CaView>('GET', `/api/v1/issuing-cas/${progress.campaign.replacementCaId}`);
    const oldNow = await rest<CaView>('GET', `/api/v1/issuing-cas/${oldCa.id}`);
    const verify = (await Promise.all(hosts.map((h) => h.ask<HostVerify>({ kind: 'verify', caPem: newCa.certificatePem! })))).reduce(
      (a, v) => ({ serials: a.serials.concat(v.serials), noCertificate: a.noCertificate + v.noCertificate, wrongIssuer: a.wrongIssuer + v.wrongIssuer, notSignedByCa: a.notSignedByCa + v.notSignedByCa, keyMismatch: a.keyMismatch + v.keyMismatch, unchanged: a.unchanged + v.unchanged }),
    );
    // ... and the server agrees on what each agent holds
    const rows = await rest<ManagedRow[]>('GET', '/api/v1/managed-certificates');
    const held = new Map(verify.serials.map(([i, s]) => [`bg-${i}`, s]));
    const disagree = rows.filter((r) => held.has(r.name) && (r.status !== 'active' || r.issuer.issuingCaId !== newCa.id || (r.currentSerial ?? '').replace(/^0+/, '') !== held.get(r.name)!.replace(/^0+/, ''))).length;
    const agentsOk = n - verify.noCertificate - verify.wrongIssuer - verify.notSignedByCa - verify.keyMismatch - verify.unchanged;
    const verified = agentsOk === n && disagree === 0 && oldNow.status === 'revoked' && newCa.status === 'active' && validated.length === n && report.counts.failing === 0;
    log(
      `${label}: ${agentsOk} of ${n} agents hold a certificate issued by the new CA "${newCa.name}" (${newCa.subject}) for their own key ` +
        `(no certificate ${verify.noCertificate}, other issuer ${verify.wrongIssuer}, bad signature ${verify.notSignedByCa}, key mismatch ${verify.keyMismatch}, not replaced ${verify.unchanged}); ` +
        `server and agents disagree on ${disagree}; old CA "${oldNow.name}" is ${oldNow.status} -> ${verified ? 'OK' : 'MISMATCH'}`,
    );

    const d = (k: keyof HostStats['counters']) => (statsAfter.counters[k] as number) - (statsBefore.counters[k] as number);
    const durations = statsAfter.durations.sort((a, b) => a - b);
    const at = (p: number) => finishedAt[Math.min(finishedAt.length - 1, Math.ceil((finishedAt.length * p) / 100) - 1)] / 1000;
    metric(`breakglass_concurrency${suffix}`, progress.campaign.concurrency);
    metric(`breakglass_revoked${suffix}`, progress.campaign.revokedCount);
    metric(`breakglass_validated${suffix}`, validated.length);
    metric(`breakglass_seconds_to_100${suffix}`, lastValidation / 1000);
    metric(`breakglass_server_seconds_to_100${suffix}`, report.secondsTo100 ?? NaN);
    metric(`breakglass_run_to_started_seconds${suffix}`, (startedAtMs - runAt) / 1000);
    metric(`breakglass_seconds_to_50pct${suffix}`, at(50));
    metric(`breakglass_seconds_to_90pct${suffix}`, at(90));
    metric(`breakglass_last_agent_ack_seconds${suffix}`, (statsAfter.lastAck - runAt) / 1000);
    metric(`breakglass_observed_completed_seconds${suffix}`, observedSeconds);
    metric(`breakglass_agent_job_p50_ms${suffix}`, pct(durations, 50) ?? NaN, 0);
    metric(`breakglass_agent_job_p99_ms${suffix}`, pct(durations, 99) ?? NaN, 0);
    metric(`breakglass_jobs_received${suffix}`, d('jobsReceived'));
    metric(`breakglass_jobs_rejected${suffix}`, d('rejected'));
    metric(`breakglass_jobs_failed${suffix}`, d('failed'));
    metric(`breakglass_stream_disconnects${suffix}`, d('disconnects'));
    metric(`breakglass_heartbeats_per_s${suffix}`, d('heartbeats') / observedSeconds, 0);
    metric(`breakglass_server_cpu_seconds${suffix}`, cpu1.server - cpu0.server);
    if (o.pgDb) metric(`breakglass_postgres_cpu_seconds${suffix}`, cpu1.pg - cpu0.pg);
    metric(`breakglass_simulator_cpu_seconds${suffix}`, cpu1.hosts - cpu0.hosts + (self.user + self.system) / 1e6);
    metric(`breakglass_machine_busy_cpu_seconds${suffix}`, cpu1.machine - cpu0.machine);
    metric(`breakglass_server_rss_peak_during_mb${suffix}`, peaks.serverRss, 0);
    metric(`breakglass_server_rss_hwm_mb${suffix}`, statusMb(o.serverPid, 'VmHWM'), 0);
    metric(`breakglass_simulator_rss_peak_during_mb${suffix}`, peaks.hostsRss + statusMb('self', 'VmRSS'), 0);
    metric(`breakglass_simulator_rss_hwm_mb${suffix}`, statsAfter.hwm + statusMb('self', 'VmHWM'), 0);
    metric(`breakglass_verified${suffix}`, verified ? 1 : 0);
    log(`${label}: load average before the run ${loadBefore}, after ${load()} (${cpus().length} cores; other work on the machine competes)`);
    if (statsAfter.problems.length) log(`agent problems: ${statsAfter.problems.slice(0, 5).join(' | ')}`);
    if (Object.keys(statsAfter.disconnectReasons).length) log(`stream ends by reason (whole run): ${JSON.stringify(statsAfter.disconnectReasons)}`);
    return { verified, newCa };
  }
}

/** Sums the host processes' counters. */
async function allStats(hosts: Host[], durations: boolean) {
  const all = await Promise.all(hosts.map((h) => h.ask<HostStats>({ kind: 'stats', durations })));
  const counters = newCounters();
  const out = { counters: counters as HostStats['counters'], disconnectReasons: {} as Record<string, number>, cpu: 0, rss: 0, hwm: 0, streams: 0, lastAck: 0, durations: [] as number[], problems: [] as string[] };
  for (const s of all) {
    for (const k of Object.keys(counters) as (keyof JobCounters)[]) if (typeof counters[k] === 'number') (counters[k] as number) += s.counters[k] as number;
    out.cpu += s.cpuSeconds;
    out.rss += s.rssMb;
    out.hwm += s.peakRssMb;
    out.streams += s.streams;
    out.lastAck = Math.max(out.lastAck, s.counters.lastSucceededAckAt);
    if (s.counters.durationsMs) out.durations.push(...s.counters.durationsMs);
    out.problems.push(...s.counters.problems);
    for (const [why, k] of Object.entries(s.counters.disconnectReasons)) out.disconnectReasons[why] = (out.disconnectReasons[why] ?? 0) + k;
  }
  return out;
}

/** Until `n` more results are acknowledged than in `start` (a failed job ends the wait). */
async function waitForAgents(hosts: Host[], start: Awaited<ReturnType<typeof allStats>>, n: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    const s = await allStats(hosts, false);
    const done = s.counters.acks - start.counters.acks;
    if (s.counters.failed > start.counters.failed) throw new Error(`${what}: a job failed: ${s.problems.slice(0, 3).join(' | ')}`);
    if (done >= n) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${done} of ${n} done within ${timeoutMs / 1000} s`);
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`${what}: ${done} of ${n} results acknowledged (CSRs sent ${s.counters.csrsSent - start.counters.csrsSent}, rejected ${s.counters.rejected - start.counters.rejected})`);
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// host processes: enroll their agents, hold their streams, run their jobs

function runHostProcess(): void {
  const counters = newCounters();
  const identities: Array<{ index: number; identity: AgentIdentity }> = [];
  const agents: JobAgent[] = [];
  const marked = new Map<JobAgent, string>();
  const reply = (id: number, value: unknown) => process.send?.({ kind: 'reply', id, value } satisfies FromHost);
  const progress = (text: string) => process.send?.({ kind: 'progress', text } satisfies FromHost);
  process.on('SIGTERM', () => {
    for (const a of agents) a.stop();
    process.exit(0);
  });
  process.on('disconnect', () => process.exit(0)); // the coordinator is gone

  const handle = async (m: ToHost): Promise<unknown> => {
    switch (m.kind) {
      case 'enroll': {
        let done = 0;
        const ids = await pool(m.hosts, m.concurrency, async ({ index, token }) => {
          const identity = await enroll({ server: m.grpc, token, caFingerprint: m.fingerprint, stateDir: join(m.work, 'state', String(index)), timeoutMs: 60_000 });
          identities.push({ index, identity });
          if (++done % 1000 === 0) progress(`${done} of ${m.hosts.length} enrolled`);
          return identity.agentId;
        });
        return ids;
      }
      case 'connect': {
        const facts = collectHostFacts();
        identities.sort((a, b) => a.index - b.index);
        for (const { index, identity } of identities) agents.push(new JobAgent(index, identity, facts, m.heartbeats, counters));
        await pool(agents, m.concurrency, (a) => a.connect(m.timeoutMs));
        return agents.length;
      }
      case 'heartbeats':
        for (const a of agents) a.setHeartbeats(m.on);
        return true;
      case 'mark':
        counters.durationsMs = [];
        for (const a of agents) marked.set(a, a.held?.serial ?? '');
        return true;
      case 'stats': {
        const u = process.cpuUsage();
        const { durationsMs, ...rest } = counters;
        return {
          counters: m.durations ? { ...rest, durationsMs } : rest,
          streams: agents.length,
          cpuSeconds: (u.user + u.system) / 1e6,
          rssMb: statusMb('self', 'VmRSS'),
          peakRssMb: statusMb('self', 'VmHWM'),
        } satisfies HostStats;
      }
      case 'verify': {
        const ca = new X509Certificate(m.caPem);
        const v: HostVerify = { serials: [], noCertificate: 0, wrongIssuer: 0, notSignedByCa: 0, keyMismatch: 0, unchanged: 0 };
        for (const a of agents) {
          const h = a.held;
          if (!h) {
            v.noCertificate++;
            v.serials.push([a.index, '']);
            continue;
          }
          v.serials.push([a.index, h.serial]);
          const leaf = new X509Certificate(h.certificatePem);
          if (leaf.issuer !== ca.subject) v.wrongIssuer++;
          else if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) v.notSignedByCa++;
          else if (!leaf.publicKey.export({ format: 'der', type: 'spki' }).equals(createPublicKey(h.privateKeyPem).export({ format: 'der', type: 'spki' }))) v.keyMismatch++;
          else if (h.serial === marked.get(a)) v.unchanged++;
        }
        return v;
      }
    }
  };
  process.on('message', (m: ToHost) => {
    handle(m).then(
      (value) => reply(m.id, value),
      (err) => process.send?.({ kind: 'failed', id: m.id, text: (err as Error).message } satisfies FromHost),
    );
  });
}

if (process.argv.includes('--host-process')) runHostProcess();
else
  main().then(
    () => setTimeout(() => process.exit(), 100).unref(),
    (err) => {
      console.error(`[breakglass] FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
