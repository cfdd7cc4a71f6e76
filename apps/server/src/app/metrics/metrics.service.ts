import { Counter, Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { ServerConfig } from '../../config/server-config';
import { EXPIRY_SERIES_LIMIT, readFleetSnapshot, type FleetSnapshot } from './fleet-snapshot';

export const METRICS_SERVICE = Symbol('METRICS_SERVICE');

const STATUSES = ['ok', 'warning', 'critical', 'expired'] as const;
const MANAGED_STATUSES = ['pending', 'active', 'failing'];
const FINISHED_JOB_STATES = ['succeeded', 'failed', 'rolled_back', 'cancelled'];
const SEVERITIES = ['info', 'warning', 'critical'];

/**
 * Prometheus metrics of this server: its own registry (not prom-client's global one, so several
 * servers can run in one process), gauges set from a cached database snapshot at scrape time.
 * Totals kept in the database (finished jobs, deliveries) are exposed as counters that follow the
 * stored count; a replica reports the fleet-wide totals, so sum() across replicas is wrong: use max().
 */
export class MetricsService {
  readonly registry = new Registry();
  private snapshotAt = 0;
  private refreshing?: Promise<void>;
  private readonly certificates: Gauge;
  private readonly expiry: Gauge;
  private readonly managed: Gauge;
  private readonly jobsQueued: Gauge;
  private readonly jobsFinished: Counter;
  private readonly agentsConnected: Gauge;
  private readonly agents: Gauge;
  private readonly agentsOffline: Gauge;
  private readonly findings: Gauge;
  private readonly deliveries?: Counter;
  private readonly deliveriesPending?: Gauge;
  private readonly counted = new Map<string, number>();

  constructor(
    private readonly ds: DataSource,
    private readonly config: Pick<ServerConfig, 'expiry' | 'heartbeatIntervalSeconds' | 'metricsCacheSeconds'>,
    /** Agents with a live gRPC stream on this replica. */
    private readonly connectedAgents: () => number,
  ) {
    const r = [this.registry];
    this.certificates = new Gauge({ name: 'certfleet_certificates', help: 'Distinct certificates in the inventory by expiry status', labelNames: ['status'], registers: r });
    this.expiry = new Gauge({
      name: 'certfleet_certificate_expiry_seconds',
      help: `Seconds until notAfter of managed certificates (negative once expired); at most ${EXPIRY_SERIES_LIMIT} series, the soonest`,
      labelNames: ['name', 'agent'],
      registers: r,
    });
    this.managed = new Gauge({ name: 'certfleet_managed_certificates', help: 'Managed certificates by status (failing: renewals keep failing)', labelNames: ['status'], registers: r });
    this.jobsQueued = new Gauge({ name: 'certfleet_jobs_queued', help: 'Renewal and issuance jobs waiting for an agent', registers: r });
    this.jobsFinished = new Counter({ name: 'certfleet_renewal_jobs_total', help: 'Finished renewal and issuance jobs by result', labelNames: ['result'], registers: r });
    this.agentsConnected = new Gauge({ name: 'certfleet_agents_connected', help: 'Agents with a live gRPC stream to this server replica', registers: r });
    this.agents = new Gauge({ name: 'certfleet_agents', help: 'Enrolled agents that are not disabled', registers: r });
    this.agentsOffline = new Gauge({ name: 'certfleet_agents_offline', help: 'Enrolled agents not heard from within three heartbeat intervals', registers: r });
    this.findings = new Gauge({ name: 'certfleet_policy_findings', help: 'Policy findings on inventory certificates by severity', labelNames: ['severity'], registers: r });
    this.deliveries = new Counter({ name: 'certfleet_alert_deliveries_total', help: 'Alert notifications delivered or given up on', labelNames: ['result'], registers: r });
    this.deliveriesPending = new Gauge({ name: 'certfleet_alert_deliveries_pending', help: 'Alert notifications waiting for (another) attempt', registers: r });
  }

  /** The exposition text; reads the database at most once per cache interval. */
  async metrics(now = Date.now()): Promise<string> {
    if (now - this.snapshotAt >= this.config.metricsCacheSeconds * 1000) {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
      await this.refreshing;
    }
    this.agentsConnected.set(this.connectedAgents());
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async refresh(): Promise<void> {
    const s = await readFleetSnapshot(this.ds, { ...this.config.expiry, onlineWithinSeconds: this.config.heartbeatIntervalSeconds * 3 });
    this.apply(s);
    this.snapshotAt = Date.now();
  }

  private apply(s: FleetSnapshot): void {
    for (const status of STATUSES) this.certificates.set({ status }, s.certificatesByStatus[status]);
    this.expiry.reset(); // certificates renewed or removed since the last scrape drop out
    for (const e of s.expiries) this.expiry.set({ name: e.name, agent: e.agent }, e.seconds);
    for (const status of MANAGED_STATUSES) this.managed.set({ status }, s.managedByStatus[status] ?? 0);
    this.jobsQueued.set(s.jobsByState.queued ?? 0);
    for (const result of FINISHED_JOB_STATES) this.follow(this.jobsFinished, 'jobs', result, s.jobsByState[result] ?? 0);
    this.agents.set(s.agents.total);
    this.agentsOffline.set(s.agents.offline);
    for (const severity of SEVERITIES) this.findings.set({ severity }, s.findingsBySeverity[severity] ?? 0);
    if (s.deliveriesByStatus) {
      for (const result of ['delivered', 'failed']) this.follow(this.deliveries!, 'deliveries', result, s.deliveriesByStatus[result] ?? 0);
      this.deliveriesPending!.set(s.deliveriesByStatus.pending ?? 0);
    }
  }

  /** Moves a counter up to the stored total (never down: pruned rows are not un-counted). */
  private follow(counter: Counter, family: string, label: string, total: number): void {
    const key = `${family}/${label}`;
    const seen = this.counted.get(key);
    if (seen === undefined) counter.inc({ result: label }, total);
    else if (total > seen) counter.inc({ result: label }, total - seen);
    if (seen === undefined || total > seen) this.counted.set(key, total);
  }
}
