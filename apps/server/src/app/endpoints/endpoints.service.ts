import { BadRequestException, BeforeApplicationShutdown, ConflictException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { DataSource, In } from 'typeorm';
import { EndpointProbe, probeEndpoint } from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { Agent } from '../agents/agent.entity';
import { forEachLimited } from '../inventory/bounded-concurrency';
import { AGENT_PROBE_BATCH, AgentDelivery, AgentProbes, EndpointProbeResultsMessage } from './agent-probes';
import { isUuid, TargetInput } from './endpoint-input';
import { EndpointObservation } from './endpoint-observation.entity';
import { EndpointObservationsStore, ObservationView, toObservation } from './endpoint-observations.store';
import { EndpointTarget } from './endpoint-target.entity';

const MINUTE = 60_000;
const PROBE_TIMEOUT_MS = 5000;
const PASS_LIMIT = 1000;

export interface ProbeRun {
  probed: number;
  tls: number;
  failed: number;
}

export type TargetView = EndpointTarget & { probedBy: string };

/** What an agent reports about one listener on its host. */
export interface AgentListenerProbe {
  probe: EndpointProbe;
  process: string | null;
}

/**
 * TLS endpoint monitoring on the server side: targets administrators configure, probed here on a
 * schedule (each target claimed with FOR UPDATE SKIP LOCKED, so with several replicas one probes
 * it), and the listener reports agents send about their own hosts.
 */
@Injectable()
export class EndpointsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Endpoints');
  private readonly store: EndpointObservationsStore;
  private timer?: NodeJS.Timeout;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly agentProbes = new AgentProbes();

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {
    this.store = new EndpointObservationsStore(ds);
  }

  onApplicationBootstrap(): void {
    if (this.config.endpoints.probeMinutes > 0) this.schedule(10_000);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.agentProbes.abandonAll();
    await this.running;
  }

  /** The gRPC side: how to reach agents connected to this replica (targets they probe). */
  attachDelivery(delivery: AgentDelivery): void {
    this.agentProbes.attach(delivery);
  }

  /** An agent's answer to an EndpointProbeRequest; throws when it does not fit what was asked. */
  onAgentProbeResults(agentId: string, msg: EndpointProbeResultsMessage): void {
    this.agentProbes.onResults(agentId, msg);
  }

  async addTarget(input: TargetInput, now = new Date()): Promise<EndpointTarget> {
    const hostAgentId = input.agent ? (await this.resolveAgent(input.agent)).id : null;
    const probeAgentId = input.probeFrom ? (await this.resolveAgent(input.probeFrom)).id : null;
    const repository = this.ds.getRepository(EndpointTarget);
    if (await repository.existsBy({ host: input.host, port: input.port, serverName: input.serverName })) {
      throw new ConflictException(`${describe(input)} is already a target`);
    }
    const { host, port, serverName } = input;
    return repository.save(repository.create({ host, port, serverName, hostAgentId, probeAgentId, createdAt: now, nextProbeAt: now }));
  }

  /** Targets, each with who probes it: "server" or the agent's hostname. */
  async listTargets(): Promise<TargetView[]> {
    const targets = await this.ds.getRepository(EndpointTarget).find({ order: { host: 'ASC', port: 'ASC', serverName: 'ASC' } });
    const ids = [...new Set(targets.map((t) => t.probeAgentId).filter((id): id is string => Boolean(id)))];
    const names = new Map((ids.length ? await this.ds.getRepository(Agent).find({ select: { id: true, hostname: true }, where: { id: In(ids) } }) : []).map((a) => [a.id, a.hostname]));
    return targets.map((t) => ({ ...t, probedBy: t.probeAgentId ? (names.get(t.probeAgentId) ?? t.probeAgentId) : 'server' }));
  }

  async removeTarget(id: string): Promise<void> {
    const target = await this.findTarget(id);
    await this.ds.transaction(async (manager) => {
      await manager.delete(EndpointObservation, { targetId: target.id });
      await manager.delete(EndpointTarget, { id: target.id });
    });
  }

  observations(filter: { agentId?: string; targetId?: string } = {}): Promise<ObservationView[]> {
    return this.store.list(filter);
  }

  async agentObservations(agent: string): Promise<ObservationView[]> {
    return this.store.list({ agentId: (await this.resolveAgent(agent)).id });
  }

  /**
   * Probes now: one target (id), or every target. Targets an agent probes are asked of it if it is
   * connected to this replica; one it cannot be asked is refused when named, skipped otherwise.
   */
  async probeNow(targetId?: string, now = new Date()): Promise<ProbeRun> {
    const connected = new Set(this.agentProbes.connected());
    let targets = targetId ? [await this.findTarget(targetId)] : await this.listTargets();
    if (targetId && targets[0].probeAgentId && !connected.has(targets[0].probeAgentId)) {
      throw new ConflictException(`the agent that probes ${describe(targets[0])} is not connected to this server; the target is probed when it connects`);
    }
    targets = targets.filter((t) => !t.probeAgentId || connected.has(t.probeAgentId));
    const run = await this.probe(targets, now);
    await this.ds.getRepository(EndpointTarget).update(targets.map((t) => t.id), { nextProbeAt: this.nextProbeAt(now) });
    return run;
  }

  /**
   * One background pass: the targets due, claimed so that another replica does not probe them too.
   * A target an agent probes is claimed only by the replica that agent is connected to; while the
   * agent is away it stays due.
   */
  async runPass(now = new Date()): Promise<ProbeRun> {
    const claimed = queryRows<{ id: string }>(
      await this.ds.query(
        `UPDATE endpoint_targets SET next_probe_at = $2 WHERE id IN (
           SELECT id FROM endpoint_targets WHERE next_probe_at <= $1 AND (probe_agent_id IS NULL OR probe_agent_id::text = ANY($3::text[]))
           ORDER BY next_probe_at LIMIT ${PASS_LIMIT} FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [now, this.nextProbeAt(now), this.agentProbes.connected()],
      ),
    );
    if (!claimed.length) return { probed: 0, tls: 0, failed: 0 };
    const targets = await this.ds.getRepository(EndpointTarget).findBy({ id: In(claimed.map((row) => row.id)) });
    return this.probe(targets, now);
  }

  /** An agent's report of the TLS listeners on its host replaces its previous one. */
  async recordAgentListeners(agentId: string, listeners: AgentListenerProbe[], now = new Date()): Promise<void> {
    const agent = await this.ds.getRepository(Agent).findOneByOrFail({ id: agentId });
    const rows = new Map<string, EndpointObservation>();
    for (const { probe, process } of listeners) {
      const row = toObservation(probe, { targetId: null, agentId, probedBy: agent.hostname, process }, now);
      rows.set(row.observationKey, row);
    }
    await this.store.replaceAgentListeners(agentId, [...rows.values()]);
  }

  private async probe(targets: EndpointTarget[], now: Date): Promise<ProbeRun> {
    const roots = this.trustAnchors();
    const byServer = targets.filter((t) => !t.probeAgentId);
    const rows = await forEachLimited(
      byServer,
      this.config.endpoints.concurrency,
      async (target) => {
        const probe = await probeEndpoint({ host: target.host, port: target.port, serverName: target.serverName || undefined, timeoutMs: PROBE_TIMEOUT_MS, trust: { roots }, testVersions: true, now });
        return toObservation(probe, { targetId: target.id, agentId: null, probedBy: 'server' }, now);
      },
      () => this.stopped,
    );
    const unanswered = await this.probeThroughAgents(targets.filter((t) => t.probeAgentId), roots, now, rows);
    await this.store.save(rows);
    const tls = rows.filter((row) => row.tls).length;
    return { probed: rows.length + unanswered, tls, failed: rows.length + unanswered - tls };
  }

  // Each agent gets its targets in batches; returns how many got no answer (nothing is stored for them).
  private async probeThroughAgents(targets: EndpointTarget[], roots: string[], now: Date, rows: EndpointObservation[]): Promise<number> {
    const byAgent = new Map<string, EndpointTarget[]>();
    for (const t of targets) {
      const list = byAgent.get(t.probeAgentId!) ?? [];
      list.push(t);
      byAgent.set(t.probeAgentId!, list);
    }
    const agents = await this.ds.getRepository(Agent).findBy({ id: In([...byAgent.keys()]) });
    let unanswered = 0;
    await Promise.all(
      agents.map(async (agent) => {
        const list = byAgent.get(agent.id)!;
        for (let i = 0; i < list.length && !this.stopped; i += AGENT_PROBE_BATCH) {
          const batch = list.slice(i, i + AGENT_PROBE_BATCH);
          const outcome = await this.agentProbes.request(agent.id, batch, roots, agentProbeTimeoutMs(batch.length));
          for (const target of batch) {
            const probe = outcome?.get(target.id);
            if (probe) rows.push(toObservation(probe, { targetId: target.id, agentId: agent.id, probedBy: agent.hostname }, now));
            else unanswered++;
          }
          if (!outcome) this.logger.warn(`agent ${agent.hostname} did not answer the probe of ${batch.length} endpoint target(s); they are probed again at the next interval`);
        }
      }),
    );
    return unanswered;
  }

  // Extra anchors from the configured PEM file (the probe adds the system roots).
  private trustAnchors(): string[] {
    const file = this.config.endpoints.caFile;
    const pem = file ? readFileSync(file, 'utf8') : '';
    return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  }

  private nextProbeAt(now: Date): Date {
    return new Date(now.getTime() + (this.config.endpoints.probeMinutes || 15) * MINUTE);
  }

  private async findTarget(id: string): Promise<EndpointTarget> {
    const target = isUuid(id) ? await this.ds.getRepository(EndpointTarget).findOneBy({ id }) : null;
    if (!target) throw new NotFoundException(`no endpoint target ${id}`);
    return target;
  }

  private async resolveAgent(agent: string): Promise<Agent> {
    const repository = this.ds.getRepository(Agent);
    const found = isUuid(agent) ? await repository.findOneBy({ id: agent }) : await repository.findOneBy({ hostname: agent });
    if (!found) throw new BadRequestException(`no agent ${agent}`);
    return found;
  }

  private schedule(waitMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const pass = this.runPass()
        .then((run) => run.probed && this.logger.log(`probed ${run.probed} endpoint(s): ${run.tls} TLS, ${run.failed} without a handshake`))
        .catch((error: Error) => this.logger.error(`endpoint probe pass failed: ${error.message}`))
        .finally(() => this.schedule(MINUTE));
      this.running = pass;
    }, waitMs);
    this.timer.unref();
  }
}

// The agent probes 8 at a time, each handshake (and one per protocol version) up to 5 s.
const agentProbeTimeoutMs = (count: number) => 15_000 + Math.ceil(count / 8) * 5 * PROBE_TIMEOUT_MS;

const describe = (t: { host: string; port: number; serverName: string }) => `${t.host}:${t.port}${t.serverName ? ` (SNI ${t.serverName})` : ''}`;
