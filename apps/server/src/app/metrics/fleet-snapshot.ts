// What /metrics reports from the database, read in a few aggregate queries. The caller caches the
// result (CERTFLEET_METRICS_CACHE_SECONDS), so scrapes never cost more than one read per interval.
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';

/** At most this many certfleet_certificate_expiry_seconds series: managed certificates, soonest first. */
export const EXPIRY_SERIES_LIMIT = 500;

export interface FleetSnapshot {
  /** Distinct certificates (by fingerprint) in the inventory, by expiry status. */
  certificatesByStatus: Record<'ok' | 'warning' | 'critical' | 'expired', number>;
  expiries: { name: string; agent: string; seconds: number }[];
  managedByStatus: Record<string, number>;
  jobsByState: Record<string, number>;
  agents: { total: number; offline: number };
  findingsBySeverity: Record<string, number>;
  /** undefined when the notifications tables are not there. */
  deliveriesByStatus?: Record<string, number>;
}

export async function readFleetSnapshot(ds: DataSource, o: { warningDays: number; criticalDays: number; onlineWithinSeconds: number }, now = new Date()): Promise<FleetSnapshot> {
  const DAY = 86_400_000;
  const [status] = queryRows<Record<string, string>>(
    await ds.query(
      `SELECT count(DISTINCT fingerprint_sha256) FILTER (WHERE not_after <= $1) AS expired,
              count(DISTINCT fingerprint_sha256) FILTER (WHERE not_after > $1 AND not_after <= $2) AS critical,
              count(DISTINCT fingerprint_sha256) FILTER (WHERE not_after > $2 AND not_after <= $3) AS warning,
              count(DISTINCT fingerprint_sha256) FILTER (WHERE not_after > $3) AS ok
         FROM certificate_inventory`,
      [now, new Date(now.getTime() + o.criticalDays * DAY), new Date(now.getTime() + o.warningDays * DAY)],
    ),
  );
  const expiries = queryRows<{ name: string; hostname: string | null; not_after: Date | string }>(
    await ds.query(
      `SELECT m.name, a.hostname, m.not_after FROM managed_certificates m LEFT JOIN agents a ON a.id = m.agent_id
        WHERE m.status <> 'removed' AND m.not_after IS NOT NULL ORDER BY m.not_after, m.name LIMIT ${EXPIRY_SERIES_LIMIT}`,
    ),
  );
  const [agents] = queryRows<{ total: string; offline: string }>(
    await ds.query(`SELECT count(*) AS total, count(*) FILTER (WHERE last_seen_at IS NULL OR last_seen_at < $1) AS offline FROM agents WHERE disabled_at IS NULL`, [
      new Date(now.getTime() - o.onlineWithinSeconds * 1000),
    ]),
  );
  const hasDeliveries = queryRows<{ t: string | null }>(await ds.query(`SELECT to_regclass('notification_deliveries')::text AS t`))[0]?.t;
  return {
    certificatesByStatus: { ok: Number(status.ok), warning: Number(status.warning), critical: Number(status.critical), expired: Number(status.expired) },
    expiries: expiries.map((r) => ({ name: r.name, agent: r.hostname ?? '', seconds: Math.round((new Date(r.not_after).getTime() - now.getTime()) / 1000) })),
    managedByStatus: await countBy(ds, `SELECT status AS k, count(*) AS n FROM managed_certificates WHERE status <> 'removed' GROUP BY status`),
    jobsByState: await countBy(ds, `SELECT state AS k, count(*) AS n FROM certificate_jobs GROUP BY state`),
    agents: { total: Number(agents.total), offline: Number(agents.offline) },
    findingsBySeverity: await countBy(ds, `SELECT severity AS k, count(*) AS n FROM policy_findings GROUP BY severity`),
    deliveriesByStatus: hasDeliveries ? await countBy(ds, `SELECT status AS k, count(*) AS n FROM notification_deliveries GROUP BY status`) : undefined,
  };
}

async function countBy(ds: DataSource, sql: string): Promise<Record<string, number>> {
  return Object.fromEntries(queryRows<{ k: string; n: string }>(await ds.query(sql)).map((r) => [r.k, Number(r.n)]));
}
