import { NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isUuid } from '../../common/ids';
import { queryRows } from '../../database/query-rows';
import { BreakglassCampaign } from './breakglass-campaign.entity';
import type { ItemState } from './breakglass-item.entity';

export interface CampaignProgress {
  campaign: BreakglassCampaign & { replacementCaName: string | null; compromisedCaName: string | null };
  counts: Record<ItemState, number> & { total: number; failing: number };
  /** validated / (everything but manual and cancelled), 0-100. */
  percent: number;
  /** From run to the last validation, once complete. */
  secondsTo100: number | null;
  /** Hosts still waiting (first 50): offline ones stay here until they reconnect. */
  pendingHosts: Array<{ hostname: string; items: number; lastError: string | null }>;
  /**
   * Compromised-CA campaigns: the certificates ACME clients held from that CA when it started. Their
   * clients renew on their own (ARI says "now"); one counts as renewed once its account's new order
   * for the same names (or naming it in "replaces") is issued. Waiting: the first 50 not renewed yet.
   */
  acmeClients: { total: number; renewed: number; waiting: Array<{ serial: string; identifiers: string[]; acmeAccountId: string }> } | null;
}

export interface CampaignReport extends CampaignProgress {
  items: Array<{ hostname: string; location: string; state: ItemState; oldSerial: string | null; newSerial: string | null; lastError: string | null; startedAt: Date | null; finishedAt: Date | null }>;
}

/** Reads a campaign's progress and its final report (read-only). */
export async function campaignProgress(ds: DataSource, id: string, withItems: false): Promise<CampaignProgress>;
export async function campaignProgress(ds: DataSource, id: string, withItems: true): Promise<CampaignReport>;
export async function campaignProgress(ds: DataSource, id: string, withItems: boolean): Promise<CampaignProgress | CampaignReport> {
  const campaign = isUuid(id) ? await ds.getRepository(BreakglassCampaign).findOne({ where: { id } }) : null;
  if (!campaign) throw new NotFoundException(`no break-glass campaign ${id}`);
  const names = queryRows<{ id: string; name: string }>(await ds.query(`SELECT "id", "name" FROM "issuing_cas" WHERE "id" = ANY($1::uuid[])`, [[campaign.compromisedCaId, campaign.replacementCaId].filter(Boolean)]));
  const nameOf = (caId: string | null) => names.find((n) => n.id === caId)?.name ?? null;
  const counts = { pending: 0, replacing: 0, validated: 0, manual: 0, cancelled: 0, total: 0, failing: 0 };
  for (const r of queryRows<{ state: ItemState; n: number; failing: number }>(
    await ds.query(`SELECT "state", count(*)::int AS "n", count(*) FILTER (WHERE "last_error" IS NOT NULL)::int AS "failing" FROM "breakglass_items" WHERE "campaign_id" = $1 GROUP BY "state"`, [id]),
  )) {
    counts[r.state] = r.n;
    counts.total += r.n;
    counts.failing += r.failing;
  }
  const replaceable = counts.total - counts.manual - counts.cancelled;
  const [last] = queryRows<{ at: Date | null }>(await ds.query(`SELECT max("finished_at") AS "at" FROM "breakglass_items" WHERE "campaign_id" = $1 AND "state" = 'validated'`, [id]));
  const pendingHosts = queryRows<{ hostname: string; items: number; last_error: string | null }>(
    await ds.query(
      `SELECT "hostname", count(*)::int AS "items", max("last_error") AS "last_error" FROM "breakglass_items"
        WHERE "campaign_id" = $1 AND "state" IN ('pending', 'replacing') GROUP BY "hostname" ORDER BY "hostname" LIMIT 50`,
      [id],
    ),
  );
  const acmeClients = campaign.compromisedCaId && campaign.startedAt ? await acmeClientsOf(ds, campaign.compromisedCaId, campaign.startedAt) : null;
  const progress: CampaignProgress = {
    campaign: { ...campaign, compromisedCaName: nameOf(campaign.compromisedCaId), replacementCaName: nameOf(campaign.replacementCaId) },
    counts,
    percent: replaceable === 0 ? (campaign.status === 'completed' ? 100 : 0) : Math.floor((counts.validated * 100) / replaceable),
    secondsTo100: campaign.status === 'completed' && campaign.startedAt ? ((last?.at ? new Date(last.at) : (campaign.completedAt ?? campaign.startedAt)).getTime() - campaign.startedAt.getTime()) / 1000 : null,
    pendingHosts: pendingHosts.map((h) => ({ hostname: h.hostname, items: h.items, lastError: h.last_error })),
    acmeClients,
  };
  if (!withItems) return progress;
  const items = queryRows<{ hostname: string; location: string; state: ItemState; old_serial: string | null; new_serial: string | null; last_error: string | null; started_at: Date | null; finished_at: Date | null }>(
    await ds.query(`SELECT "hostname", "location", "state", "old_serial", "new_serial", "last_error", "started_at", "finished_at" FROM "breakglass_items" WHERE "campaign_id" = $1 ORDER BY "hostname", "seq"`, [id]),
  );
  return {
    ...progress,
    items: items.map((r) => ({ hostname: r.hostname, location: r.location, state: r.state, oldSerial: r.old_serial, newSerial: r.new_serial, lastError: r.last_error, startedAt: r.started_at, finishedAt: r.finished_at })),
  };
}

/** ACME certificates of the CA standing when the campaign started (not replaced, unexpired, not revoked before), and which were renewed since. */
async function acmeClientsOf(ds: DataSource, caId: string, startedAt: Date): Promise<CampaignProgress['acmeClients']> {
  const standing = `FROM "acme_order_certificates" c
      JOIN "issued_certificates" ic ON ic."serial" = c."serial"
      JOIN "acme_orders" o ON o."id" = c."order_id"
     WHERE c."issuing_ca_id" = $1 AND c."issued_at" <= $2 AND c."not_after" > $2
       AND (c."replaced_at" IS NULL OR c."replaced_at" > $2) AND (ic."revoked_at" IS NULL OR ic."revoked_at" >= $2)`;
  const [counts] = queryRows<{ total: number; renewed: number }>(await ds.query(`SELECT count(*)::int AS "total", count(c."replaced_at")::int AS "renewed" ${standing}`, [caId, startedAt]));
  const waiting = queryRows<{ serial: string; identifiers: Array<{ value: string }>; account_id: string }>(
    await ds.query(`SELECT c."serial", o."identifiers", c."account_id" ${standing} AND c."replaced_at" IS NULL ORDER BY c."issued_at", c."serial" LIMIT 50`, [caId, startedAt]),
  );
  return { total: counts.total, renewed: counts.renewed, waiting: waiting.map((w) => ({ serial: w.serial, identifiers: w.identifiers.map((i) => i.value), acmeAccountId: w.account_id })) };
}
