// A lightweight simulated agent that holds one Connect stream and runs certificate jobs, for the
// break-glass benchmark. The stream part follows the foundation simulator
// (tools/bench/fleet-ingest/simulator.ts: same channel options, Hello with host facts, heartbeats);
// that file runs its benchmark when loaded and exports nothing, so the few lines are repeated here.
// The job part speaks the protocol exactly as the agent's JobRunner (apps/agent/src/jobs/job-runner.ts)
// does, minus the files: key + CSR on `job`, check on `jobCertificate`, one `jobResult`, resent on
// duplicates and after a reconnect; the key and certificate are kept in memory only.
import { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { createKeyAndCsrFor, CSR_KEY_TYPES, CsrKeyType } from '@certfleet/pki';
import { AgentMessage, AgentServiceClient, CertificateJob, HostFacts, JobCertificate, JobOutcome, JobRejected, JobResult, ServerMessage, Welcome } from '@certfleet/proto';
import { backoffDelayMs } from '../../../apps/agent/src/session/backoff';
import { channelCredentials, targetNameOptions } from '../../../apps/agent/src/session/server-trust';
import type { AgentIdentity } from '../../../apps/agent/src/state/identity';

type Stream = ClientDuplexStream<AgentMessage, ServerMessage>;

/** One job as this agent knows it (the JobRunner's journal, in memory). */
interface JobState {
  jobId: string;
  stage: 'preparing' | 'csr-sent' | 'result' | 'done';
  receivedAt: number;
  csrPem?: string;
  privateKeyPem?: string;
  spki?: Buffer;
  result?: JobResult;
}

/** What the agent holds: the certificate it "installed" (in memory, never written to a file). */
export interface HeldCertificate {
  certificatePem: string;
  chainPem: string;
  privateKeyPem: string;
  serial: string;
  issuer: string;
  jobId: string;
}

/** Counters shared by all the agents of a process. */
export interface JobCounters {
  jobsReceived: number;
  duplicateJobs: number;
  csrsSent: number;
  certificates: number;
  duplicateCertificates: number;
  rejected: number;
  succeeded: number;
  failed: number;
  acks: number;
  disconnects: number;
  /** Why streams ended, by reason (gRPC code and details). */
  disconnectReasons: Record<string, number>;
  heartbeats: number;
  /** Epoch ms of the last ack of a SUCCEEDED result. */
  lastSucceededAckAt: number;
  /** Agent-side job durations (job arrival -> result) of the results sent since the last mark. */
  durationsMs: number[];
  problems: string[];
}

export function newCounters(): JobCounters {
  return { jobsReceived: 0, duplicateJobs: 0, csrsSent: 0, certificates: 0, duplicateCertificates: 0, rejected: 0, succeeded: 0, failed: 0, acks: 0, disconnects: 0, disconnectReasons: {}, heartbeats: 0, lastSucceededAckAt: 0, durationsMs: [], problems: [] };
}

const spkiOf = (keyPem: string): Buffer => createPublicKey(keyPem).export({ format: 'der', type: 'spki' });

export class JobAgent {
  private client?: AgentServiceClient;
  private stream?: Stream;
  private welcomed = false;
  private stopped = false;
  private attempt = 0;
  private heartbeat?: NodeJS.Timeout;
  private heartbeatSeconds = 30;
  private reconnectTimer?: NodeJS.Timeout;
  private welcomeWaiter?: { resolve: (w: Welcome) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private readonly jobs = new Map<string, JobState>();
  /** The current certificate; `history` keeps the serials held before. */
  held?: HeldCertificate;
  readonly history: string[] = [];

  constructor(
    readonly index: number,
    readonly identity: AgentIdentity,
    private readonly facts: HostFacts,
    private heartbeats: boolean,
    private readonly counters: JobCounters,
  ) {}

  get hostname(): string {
    return `bg-host-${String(this.index).padStart(5, '0')}`;
  }

  /** Opens the stream, sends the Hello and resolves with the Welcome. */
  connect(timeoutMs: number): Promise<Welcome> {
    const id = this.identity;
    // The same channel options as the real agent's session (apps/agent/src/session/agent-session.ts).
    this.client ??= new AgentServiceClient(id.server, channelCredentials(id.caCertificatesPem, id), {
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      ...targetNameOptions(id.server),
    });
    const welcome = new Promise<Welcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.welcomeWaiter = undefined;
        reject(new Error(`agent ${this.index}: no Welcome within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.welcomeWaiter = { resolve, reject, timer };
    });
    this.openStream();
    return welcome;
  }

  /**
   * Heartbeats on or off. Switched on, the first comes at a random point of the interval, as the
   * heartbeats of a fleet whose agents connected at different times would.
   */
  setHeartbeats(on: boolean): void {
    this.heartbeats = on;
    this.stopHeartbeats();
    if (on && this.welcomed) this.startHeartbeats(Math.random());
  }

  stop(): void {
    this.stopped = true;
    this.stopHeartbeats();
    clearTimeout(this.reconnectTimer);
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.cancel();
    }
    this.client?.close();
  }

  private openStream(): void {
    if (this.stopped) return;
    const stream = this.client!.connect();
    this.stream = stream;
    this.welcomed = false;
    stream.on('data', (msg: ServerMessage) => this.onMessage(msg));
    stream.on('error', (err: ServiceError) => this.onDisconnect(stream, `${err.code} ${err.details || err.message}`));
    stream.on('end', () => this.onDisconnect(stream, 'stream closed by the server'));
    const i = this.index;
    const facts: HostFacts = { ...this.facts, hostname: this.hostname, machineId: this.identity.agentId.replace(/-/g, ''), ipAddresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`] };
    stream.write({ payload: { $case: 'hello', value: { host: facts, lastSequence: 0n } } });
  }

  /** As the real session: reconnect with backoff; the jobs' pending messages go again once welcomed. */
  private onDisconnect(stream: Stream, reason: string): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.welcomed = false;
    this.stopHeartbeats();
    if (this.stopped) return;
    this.counters.disconnects++;
    const why = reason.slice(0, 120);
    this.counters.disconnectReasons[why] = (this.counters.disconnectReasons[why] ?? 0) + 1;
    const w = this.welcomeWaiter;
    if (w) {
      this.welcomeWaiter = undefined;
      clearTimeout(w.timer);
      w.reject(new Error(`agent ${this.index}: ${reason}`));
      return;
    }
    this.reconnectTimer = setTimeout(() => this.openStream(), backoffDelayMs(this.attempt++));
  }

  private onMessage(msg: ServerMessage): void {
    const p = msg.payload;
    switch (p?.$case) {
      case 'welcome':
        return this.onWelcome(p.value);
      case 'job':
        return this.onJob(p.value);
      case 'jobCertificate':
        return this.onCertificate(p.value);
      case 'jobRejected':
        return this.onRejected(p.value);
      case 'jobResultAck':
        return this.onResultAck(p.value.jobId);
    }
  }

  private onWelcome(w: Welcome): void {
    this.welcomed = true;
    this.attempt = 0;
    // As the real session: a heartbeat every heartbeatIntervalSeconds once welcomed.
    this.heartbeatSeconds = Math.max(1, w.heartbeatIntervalSeconds);
    this.stopHeartbeats();
    if (this.heartbeats) this.startHeartbeats(1);
    const waiter = this.welcomeWaiter;
    if (waiter) {
      this.welcomeWaiter = undefined;
      clearTimeout(waiter.timer);
      waiter.resolve(w);
    }
    // JobRunner.resume(): resend CSRs awaiting a certificate and results awaiting an ack.
    for (const job of this.jobs.values()) this.resendPending(job);
  }

  /** The first heartbeat after `phase` (0..1) of the interval, then one every interval. */
  private startHeartbeats(phase: number): void {
    const ms = this.heartbeatSeconds * 1000;
    const beat = () => {
      this.counters.heartbeats++;
      this.send({ payload: { $case: 'heartbeat', value: { sentAt: new Date() } } });
    };
    this.heartbeat = setTimeout(() => {
      beat();
      this.heartbeat = setInterval(beat, ms);
    }, phase * ms);
  }

  private stopHeartbeats(): void {
    // clearTimeout and clearInterval take either kind of timer
    clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }

  private send(msg: AgentMessage): void {
    if (this.stream && this.welcomed) this.stream.write(msg);
  }

  // ---- jobs --------------------------------------------------------------------------------

  private onJob(job: CertificateJob): void {
    this.counters.jobsReceived++;
    const known = this.jobs.get(job.jobId);
    if (known) {
      this.counters.duplicateJobs++;
      this.resendPending(known);
      return;
    }
    const state: JobState = { jobId: job.jobId, stage: 'preparing', receivedAt: Date.now() };
    this.jobs.set(job.jobId, state);
    if (!(CSR_KEY_TYPES as readonly string[]).includes(job.keyType)) {
      this.finish(state, JobOutcome.JOB_OUTCOME_FAILED, 'key', `unsupported key type "${job.keyType}"`);
      return;
    }
    createKeyAndCsrFor({ keyType: job.keyType as CsrKeyType, commonName: job.commonName || undefined, dnsNames: job.dnsNames, ipAddresses: job.ipAddresses }).then(
      ({ privateKeyPem, csrPem }) => {
        state.privateKeyPem = privateKeyPem;
        state.spki = spkiOf(privateKeyPem);
        state.csrPem = csrPem;
        state.stage = 'csr-sent';
        this.sendCsr(state);
      },
      (err: Error) => this.finish(state, JobOutcome.JOB_OUTCOME_FAILED, 'csr', `cannot make the CSR: ${err.message}`),
    );
  }

  private onCertificate(msg: JobCertificate): void {
    const state = this.jobs.get(msg.jobId);
    if (!state) {
      this.problem(`certificate for unknown job ${msg.jobId}`);
      return;
    }
    if (state.stage !== 'csr-sent') {
      this.counters.duplicateCertificates++;
      if (state.stage === 'result' || state.stage === 'done') this.sendResult(state);
      return;
    }
    this.counters.certificates++;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(msg.certificatePem);
      if (msg.chainPem) new X509Certificate(msg.chainPem); // the chain parses too (its first certificate)
      // Cheap form of the agent's checkJobCertificate: the certificate is for the key made here.
      if (!leaf.publicKey.export({ format: 'der', type: 'spki' }).equals(state.spki!)) throw new Error('the certificate is not for the key this agent generated');
    } catch (err) {
      this.finish(state, JobOutcome.JOB_OUTCOME_FAILED, 'certificate', (err as Error).message);
      return;
    }
    const serial = leaf.serialNumber.toLowerCase();
    if (this.held) this.history.push(this.held.serial);
    this.held = { certificatePem: msg.certificatePem, chainPem: msg.chainPem, privateKeyPem: state.privateKeyPem!, serial, issuer: leaf.issuer, jobId: state.jobId };
    state.privateKeyPem = undefined; // now held as the installed key
    this.finish(state, JobOutcome.JOB_OUTCOME_SUCCEEDED, 'done', '', serial);
  }

  private onRejected(msg: JobRejected): void {
    const state = this.jobs.get(msg.jobId);
    if (!state || (state.stage !== 'preparing' && state.stage !== 'csr-sent')) return;
    this.counters.rejected++;
    this.finish(state, JobOutcome.JOB_OUTCOME_FAILED, 'csr', `the server rejected the job: ${msg.reasons.join('; ') || 'no reason given'}`);
  }

  private onResultAck(jobId: string): void {
    const state = this.jobs.get(jobId);
    if (!state || state.stage !== 'result') return;
    state.stage = 'done';
    state.csrPem = undefined;
    state.spki = undefined;
    this.counters.acks++;
    if (state.result?.outcome === JobOutcome.JOB_OUTCOME_SUCCEEDED) this.counters.lastSucceededAckAt = Date.now();
  }

  private finish(state: JobState, outcome: JobOutcome, stage: string, error: string, installedSerial = ''): void {
    const durationMs = Date.now() - state.receivedAt;
    state.result = { jobId: state.jobId, outcome, stage, error, installedSerial, durationMs };
    state.stage = 'result';
    if (outcome === JobOutcome.JOB_OUTCOME_SUCCEEDED) {
      this.counters.succeeded++;
      this.counters.durationsMs.push(durationMs);
    } else {
      this.counters.failed++;
      this.problem(`job ${state.jobId}: ${JobOutcome[outcome]} at ${stage}: ${error}`);
    }
    this.sendResult(state);
  }

  private resendPending(state: JobState): void {
    if (state.stage === 'csr-sent') this.sendCsr(state);
    else if (state.stage === 'result' || state.stage === 'done') this.sendResult(state);
  }

  private sendCsr(state: JobState): void {
    this.counters.csrsSent++;
    this.send({ payload: { $case: 'jobCsr', value: { jobId: state.jobId, csrPem: state.csrPem! } } });
  }

  private sendResult(state: JobState): void {
    if (state.result) this.send({ payload: { $case: 'jobResult', value: state.result } });
  }

  private problem(text: string): void {
    if (this.counters.problems.length < 20) this.counters.problems.push(`agent ${this.index}: ${text}`);
  }
}
