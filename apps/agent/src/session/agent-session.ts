import { ClientDuplexStream, ServiceError, status as grpcStatus } from '@grpc/grpc-js';
import { AgentMessage, AgentServiceClient, InventoryReport, JobChallengeReady, JobCsr, JobResult, ReportAck, ServerMessage, Welcome } from '@certfleet/proto';
import type { JobRunner } from '../jobs';
import { collectHostFacts } from '../host/host-facts';
import { InventoryTracker } from '../inventory/inventory-tracker';
import { Outbox } from '../inventory/outbox';
import type { EndpointReport } from '../endpoints/endpoint-scan';
import type { EndpointProbeRequest } from '../endpoints/target-probes';
import { Logger } from '../log';
import { AgentIdentity } from '../state/identity';
import { backoffDelayMs } from './backoff';
import { channelCredentials, targetNameOptions } from './server-trust';

type Stream = ClientDuplexStream<AgentMessage, ServerMessage>;
type EndpointProbeResults = Extract<NonNullable<AgentMessage['payload']>, { $case: 'endpointProbeResults' }>['value'];

export interface SessionEvents {
  /** The server asked for a scan now. */
  onScanRequested(): void;
  /** The server asked for endpoint targets to be probed from this host. */
  onEndpointProbe?(request: EndpointProbeRequest): void;
  /** Runs certificate jobs; the session feeds it the server's job messages. */
  jobs?: Pick<JobRunner, 'resume' | 'onJob' | 'onCertificate' | 'onRejected' | 'onResultAck'> & Partial<Pick<JobRunner, 'onChallenge' | 'onChallengeCleanup'>>;
}

/**
 * The agent's one long-lived Connect stream: hello, heartbeats, inventory reports from the outbox,
 * acknowledgements. Reconnects with backoff and resends whatever the server has not applied.
 */
export class AgentSession {
  private readonly client: AgentServiceClient;
  private stream: Stream | null = null;
  private welcomed = false;
  private attempt = 0;
  private heartbeat?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private stopped = false;
  /** Reports before this sequence belong to an abandoned history; their gap answers are stale. */
  private fullSyncFrom = 0n;
  private fullSyncPending = false;

  constructor(
    private readonly identity: AgentIdentity,
    private readonly outbox: Outbox,
    private readonly tracker: InventoryTracker,
    private readonly log: Logger,
    private readonly events: SessionEvents,
  ) {
    this.client = new AgentServiceClient(identity.server, channelCredentials(identity.caCertificatesPem, identity), {
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      ...targetNameOptions(identity.server),
    });
  }

  get connected(): boolean {
    return this.welcomed;
  }

  start(): void {
    this.connect();
  }

  /** Call after each scan: queues what changed (or a pending full sync) and sends it if connected. */
  publish(drafts: Omit<InventoryReport, 'sequence'>[], scannedAt: Date): void {
    if (this.fullSyncPending) {
      this.startFullSync(scannedAt);
      return;
    }
    for (const r of this.outbox.append(drafts)) this.send({ payload: { $case: 'report', value: r } });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnect);
    this.stream?.end();
    this.stream = null;
    this.client.close();
  }

  private connect(): void {
    if (this.stopped) return;
    const stream = this.client.connect();
    this.stream = stream;
    this.welcomed = false;
    stream.on('data', (msg: ServerMessage) => this.onMessage(msg));
    stream.on('error', (err: ServiceError) => this.onDisconnect(stream, err));
    stream.on('end', () => this.onDisconnect(stream));
    stream.write({ payload: { $case: 'hello', value: { host: collectHostFacts(), lastSequence: this.outbox.last } } });
  }

  private onDisconnect(stream: Stream, err?: ServiceError): void {
    if (this.stream !== stream) return;
    this.stream = null;
    this.welcomed = false;
    clearInterval(this.heartbeat);
    if (this.stopped) return;
    const delay = backoffDelayMs(this.attempt++);
    const reason = err ? `${grpcStatus[err.code] ?? err.code}: ${err.details || err.message}` : 'stream closed by server';
    const refused = err && (err.code === grpcStatus.PERMISSION_DENIED || err.code === grpcStatus.UNAUTHENTICATED);
    this.log(refused ? 'error' : 'warn', `disconnected from ${this.identity.server} (${reason}); reconnecting in ${(delay / 1000).toFixed(1)}s`);
    this.reconnect = setTimeout(() => this.connect(), delay);
  }

  private onMessage(msg: ServerMessage): void {
    const p = msg.payload;
    switch (p?.$case) {
      case 'welcome':
        return this.onWelcome(p.value);
      case 'ack':
        return this.onAck(p.value);
      case 'scan':
        return this.events.onScanRequested();
      case 'job':
        return this.events.jobs?.onJob(p.value);
      case 'jobCertificate':
        return this.events.jobs?.onCertificate(p.value);
      case 'jobRejected':
        return this.events.jobs?.onRejected(p.value);
      case 'jobResultAck':
        return this.events.jobs?.onResultAck(p.value);
      case 'jobChallenge':
        return this.events.jobs?.onChallenge?.(p.value);
      case 'jobChallengeCleanup':
        return this.events.jobs?.onChallengeCleanup?.(p.value);
      case 'endpointProbe':
        return this.events.onEndpointProbe?.(p.value);
    }
  }

  private onWelcome(w: Welcome): void {
    this.welcomed = true;
    this.attempt = 0;
    this.log('info', `connected to ${this.identity.server} as agent ${w.agentId}; server has applied report ${w.appliedSequence}`);
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(
      () => this.send({ payload: { $case: 'heartbeat', value: { sentAt: new Date() } } }),
      Math.max(1, w.heartbeatIntervalSeconds) * 1000,
    );
    const behind = this.outbox.last < w.appliedSequence; // our state is older than the server's
    this.outbox.advanceTo(w.appliedSequence);
    if (this.endpointReport) this.send({ payload: { $case: 'endpointReport', value: this.endpointReport } });
    if (w.fullSyncRequired || behind) {
      this.startFullSync(new Date());
      this.events.jobs?.resume();
      return;
    }
    this.outbox.acknowledge(w.appliedSequence);
    for (const r of this.outbox.pendingAfter(w.appliedSequence)) this.send({ payload: { $case: 'report', value: r } });
    this.events.jobs?.resume();
  }

  /** Job messages go out only on a welcomed stream; the job journal resends them after a reconnect. */
  sendJobCsr(msg: JobCsr): void {
    this.send({ payload: { $case: 'jobCsr', value: msg } });
  }

  sendJobResult(msg: JobResult): void {
    this.send({ payload: { $case: 'jobResult', value: msg } });
  }

  /** The latest probe of the host's TLS listeners: sent now if connected, and again on each (re)connection. */
  sendEndpointReport(report: EndpointReport): void {
    this.endpointReport = report;
    this.send({ payload: { $case: 'endpointReport', value: report } });
  }

  /** Answers go out only on the stream that asked: after a reconnect the server no longer waits for them. */
  sendEndpointProbeResults(results: EndpointProbeResults): void {
    this.send({ payload: { $case: 'endpointProbeResults', value: results } });
  }

  sendJobChallengeReady(msg: JobChallengeReady): void {
    this.send({ payload: { $case: 'jobChallengeReady', value: msg } });
  }

  private onAck(ack: ReportAck): void {
    if (ack.fullSyncRequired) {
      if (ack.sequence >= this.fullSyncFrom) {
        this.log('info', `server asked for a full inventory sync (${ack.error || 'no reason given'})`);
        this.startFullSync(new Date());
      }
      return;
    }
    if (ack.error) this.log('warn', `server refused inventory report ${ack.sequence}: ${ack.error}`);
    this.outbox.acknowledge(ack.sequence);
  }

  /** Drops queued deltas and sends the whole inventory; waits for a first scan if there is none. */
  private startFullSync(scannedAt: Date): void {
    this.outbox.clear();
    if (!this.tracker.hasSnapshot) {
      this.fullSyncPending = true;
      return;
    }
    this.fullSyncPending = false;
    const reports = this.outbox.append(this.tracker.fullSync(scannedAt));
    this.fullSyncFrom = reports[0].sequence;
    for (const r of reports) this.send({ payload: { $case: 'report', value: r } });
  }

  private endpointReport?: EndpointReport;

  private send(msg: AgentMessage): void {
    if (this.stream && this.welcomed) this.stream.write(msg);
  }
}
