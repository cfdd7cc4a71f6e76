import { Logger } from '@nestjs/common';
import { ServerDuplexStream, status } from '@grpc/grpc-js';
import type { AgentMessage, ServerMessage } from '@certfleet/proto';
import { AgentAuthError, AgentsService } from '../../../app/agents/agents.service';
import { listenerProbes } from '../../../app/endpoints/agent-endpoint-report';
import type { EndpointsService } from '../../../app/endpoints/endpoints.service';
import { InventoryReportService } from '../../../app/inventory/inventory-report.service';
import { JobsService } from '../../../app/jobs/jobs.service';
import { grpcError } from './grpc-error';
import { hostFactsToJson } from './host-facts';

export interface SessionDeps {
  agents: AgentsService;
  reports: InventoryReportService;
  jobs: JobsService;
  /** After an applied report: notice managed certificates replaced out of band. */
  reconcile(agentId: string): Promise<unknown>;
  heartbeatIntervalSeconds: number;
  registry: AgentSessionRegistry;
  /** Stores agents' TLS listener reports. */
  endpoints?: Pick<EndpointsService, 'recordAgentListeners' | 'onAgentProbeResults'>;
}

type Stream = ServerDuplexStream<AgentMessage, ServerMessage>;

/** Live sessions on this replica; a reconnecting agent replaces its older session. */
export class AgentSessionRegistry {
  private readonly sessions = new Map<string, AgentSession>();

  register(agentId: string, session: AgentSession): void {
    const previous = this.sessions.get(agentId);
    this.sessions.set(agentId, session);
    previous?.close('superseded by a newer connection from the same agent');
  }

  unregister(agentId: string, session: AgentSession): void {
    if (this.sessions.get(agentId) === session) this.sessions.delete(agentId);
  }

  get(agentId: string): AgentSession | undefined {
    return this.sessions.get(agentId);
  }

  /** Agents whose session has been greeted (can be sent messages). */
  readyAgentIds(): string[] {
    return [...this.sessions].filter(([, session]) => session.ready).map(([agentId]) => agentId);
  }

  get size(): number {
    return this.sessions.size;
  }

  closeAll(): void {
    for (const s of this.sessions.values()) s.close('server shutting down');
  }
}

/**
 * One agent's Connect stream. The agent is the one named by its verified client certificate;
 * messages are handled one at a time, in order.
 */
export class AgentSession {
  private static readonly logger = new Logger('AgentSession');
  private agentId: string | null = null;
  private greeted = false;
  private queue: Promise<void>;
  private closed = false;

  constructor(private readonly call: Stream, private readonly deps: SessionDeps) {
    this.queue = this.authenticate().catch((err) => this.fail(err));
    call.on('data', (msg: AgentMessage) => {
      this.queue = this.queue.then(() => (this.closed ? undefined : this.handle(msg))).catch((err) => this.fail(err));
    });
    call.on('end', () => this.finish());
    call.on('cancelled', () => this.finish());
    call.on('error', () => this.finish());
  }

  send(msg: ServerMessage): void {
    if (!this.closed) this.call.write(msg);
  }

  /** Welcomed and open: ready for jobs. */
  get ready(): boolean {
    return this.greeted && !this.closed;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.fail(grpcError(status.UNAVAILABLE, reason));
  }

  private async authenticate(): Promise<void> {
    const der = this.call.getAuthContext()?.sslPeerCertificate?.raw;
    if (!der) {
      throw grpcError(status.UNAUTHENTICATED, 'a client certificate issued by this server\'s fleet CA is required (enroll the agent first)');
    }
    try {
      const agent = await this.deps.agents.authenticate(der);
      this.agentId = agent.id;
      this.deps.registry.register(agent.id, this);
    } catch (err) {
      if (err instanceof AgentAuthError) throw grpcError(status.PERMISSION_DENIED, err.message);
      throw err;
    }
  }

  private async handle(msg: AgentMessage): Promise<void> {
    const agentId = this.agentId!;
    const p = msg.payload;
    if (!p) return;
    if (!this.greeted && p.$case !== 'hello') {
      throw grpcError(status.FAILED_PRECONDITION, 'the first message on a Connect stream must be a Hello');
    }
    switch (p.$case) {
      case 'hello': {
        await this.deps.agents.recordHello(agentId, hostFactsToJson(p.value.host));
        const state = await this.deps.agents.syncState(agentId);
        this.greeted = true;
        this.send({
          payload: {
            $case: 'welcome',
            value: {
              agentId,
              appliedSequence: state.appliedSequence,
              heartbeatIntervalSeconds: this.deps.heartbeatIntervalSeconds,
              fullSyncRequired: state.fullSyncRequired,
            },
          },
        });
        // Jobs queued while the agent was away (or not yet finished) go out now.
        for (const job of await this.deps.jobs.openJobMessages(agentId)) this.send(job);
        return;
      }
      case 'jobCsr': {
        // Null: an ACME order runs for the job; its answer is sent when the order ends.
        const answer = await this.deps.jobs.answerCsr(agentId, p.value);
        if (answer) this.send(answer);
        return;
      }
      case 'jobChallengeReady':
        this.deps.jobs.handleChallengeReady(agentId, p.value);
        return;
      case 'jobResult':
        this.send(await this.deps.jobs.handleResult(agentId, p.value));
        return;
      case 'heartbeat':
        await this.deps.agents.recordHeartbeat(agentId);
        return;
      case 'endpointReport':
        try {
          await this.deps.endpoints?.recordAgentListeners(agentId, listenerProbes(p.value));
        } catch (err) {
          AgentSession.logger.warn(`endpoint report from agent ${agentId} refused: ${(err as Error).message}`);
        }
        return;
      case 'endpointProbeResults':
        try {
          this.deps.endpoints?.onAgentProbeResults(agentId, p.value);
        } catch (err) {
          AgentSession.logger.warn(`endpoint probe results from agent ${agentId} refused: ${(err as Error).message}`);
        }
        return;
      case 'report': {
        let ack;
        try {
          ack = await this.deps.reports.apply(agentId, p.value);
        } catch (err) {
          AgentSession.logger.warn(`report ${p.value.sequence} from agent ${agentId} refused: ${(err as Error).message}`);
          ack = { sequence: p.value.sequence, fullSyncRequired: false, error: `report refused: ${(err as Error).message}` };
        }
        this.send({ payload: { $case: 'ack', value: ack } });
        if (!ack.error && !ack.fullSyncRequired) await this.deps.reconcile(agentId);
        return;
      }
    }
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    const e = err as { code?: number; message?: string };
    if (e.code === undefined) AgentSession.logger.error(`agent session ${this.agentId ?? '?'} failed`, err as Error);
    this.call.emit('error', e.code === undefined ? grpcError(status.INTERNAL, 'internal error') : err);
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.agentId) this.deps.registry.unregister(this.agentId, this);
    try {
      this.call.end();
    } catch {
      // the stream is already gone
    }
  }
}
