import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOCKS, withAdvisoryLock } from '../../database/advisory-lock';
import { queryRows } from '../../database/query-rows';
import { AuditService } from '../audit/audit.service';
import { RenewalScheduler } from '../jobs/renewal-scheduler';
import { BreakglassCampaign } from './breakglass-campaign.entity';
import { BreakglassService } from './breakglass.service';

const ACTIVE_TICK_MS = 500;
const IDLE_TICK_MS = 10_000;

/**
 * Moves running campaigns along: records validated replacements and their errors, opens more
 * replacements as slots free up (never more than the campaign's concurrency at once), starts a
 * campaign whose replacement CA has been imported, and completes a campaign when nothing is left.
 * One replica at a time (advisory lock); every step is an idempotent UPDATE.
 */
@Injectable()
export class CampaignWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BreakglassWorker');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(BreakglassService) private readonly breakglass: BreakglassService,
    @Inject(RenewalScheduler) private readonly scheduler: RenewalScheduler,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {
    breakglass.onStarted = () => void this.tick();
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One pass over active campaigns now (or the one under way). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) return this.running;
    this.running = this.pass()
      .then((active) => this.schedule(active ? ACTIVE_TICK_MS : IDLE_TICK_MS))
      .catch((err) => {
        this.logger.error(`break-glass pass failed: ${(err as Error).message}`);
        this.schedule(IDLE_TICK_MS);
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async pass(): Promise<boolean> {
    const campaigns = await this.ds.getRepository(BreakglassCampaign).find({ where: [{ status: 'running' }, { status: 'waiting-for-ca' }] });
    for (const c of campaigns.filter((c) => c.status === 'waiting-for-ca')) {
      const [ca] = queryRows<{ status: string }>(await this.ds.query(`SELECT "status" FROM "issuing_cas" WHERE "id" = $1`, [c.replacementCaId]));
      if (ca?.status === 'active') await this.breakglass.start(c.id, c.createdBy);
    }
    let opened = 0;
    for (const c of await this.ds.getRepository(BreakglassCampaign).find({ where: { status: 'running' } })) opened += await this.advance(c);
    if (opened > 0) void this.scheduler.kick();
    return campaigns.length > 0;
  }

  /** Settles, records errors, opens replacements up to the concurrency, completes. Returns how many it opened. */
  private advance(c: BreakglassCampaign): Promise<number> {
    return withAdvisoryLock(this.ds, LOCKS.breakglass, async (m) => {
      await m.query(
        `UPDATE "breakglass_items" it SET "state" = 'validated', "new_serial" = mc."current_serial", "finished_at" = now(), "last_error" = NULL
           FROM "managed_certificates" mc
          WHERE it."campaign_id" = $1 AND it."state" = 'replacing' AND mc."id" = it."managed_certificate_id"
            AND mc."replacement_requested_at" IS NULL AND mc."current_serial" IS DISTINCT FROM it."old_serial"`,
        [c.id],
      );
      await m.query(
        `UPDATE "breakglass_items" it SET "state" = 'cancelled', "finished_at" = now()
           FROM "managed_certificates" mc
          WHERE it."campaign_id" = $1 AND it."state" IN ('pending', 'replacing') AND mc."id" = it."managed_certificate_id" AND mc."removed_at" IS NOT NULL`,
        [c.id],
      );
      await m.query(
        `UPDATE "breakglass_items" it SET "last_error" = mc."last_error"
           FROM "managed_certificates" mc
          WHERE it."campaign_id" = $1 AND it."state" = 'replacing' AND mc."id" = it."managed_certificate_id"
            AND mc."failure_count" > 0 AND it."last_error" IS DISTINCT FROM mc."last_error"`,
        [c.id],
      );
      const [{ replacing, pending }] = queryRows<{ replacing: number; pending: number }>(
        await m.query(
          `SELECT count(*) FILTER (WHERE "state" = 'replacing')::int AS "replacing", count(*) FILTER (WHERE "state" = 'pending')::int AS "pending"
             FROM "breakglass_items" WHERE "campaign_id" = $1`,
          [c.id],
        ),
      );
      const slots = Math.min(pending, c.concurrency - replacing);
      let opened = 0;
      if (slots > 0) {
        const rows = queryRows<{ managed_certificate_id: string }>(
          await m.query(
            `UPDATE "breakglass_items" SET "state" = 'replacing', "started_at" = now()
              WHERE "campaign_id" = $1 AND "seq" IN (SELECT "seq" FROM "breakglass_items" WHERE "campaign_id" = $1 AND "state" = 'pending' ORDER BY "seq" LIMIT $2)
              RETURNING "managed_certificate_id"`,
            [c.id, slots],
          ),
        );
        await m.query(
          `UPDATE "managed_certificates" SET "replacement_requested_at" = now(), "next_renewal_at" = now(), "updated_at" = now() WHERE "id" = ANY($1::uuid[]) AND "removed_at" IS NULL`,
          [rows.map((r) => r.managed_certificate_id)],
        );
        opened = rows.length;
      }
      // Counted after settling: nothing pending or replacing means every managed holder is done.
      if (replacing + pending === 0) {
        await m.query(`UPDATE "breakglass_campaigns" SET "status" = 'completed', "completed_at" = now() WHERE "id" = $1 AND "status" = 'running'`, [c.id]);
        await this.audit.record(m, { actor: 'system:breakglass', action: 'breakglass.completed', subjectType: 'breakglass-campaign', subjectId: c.id, detail: { seconds: c.startedAt ? (Date.now() - c.startedAt.getTime()) / 1000 : null } });
        this.logger.warn(`break-glass campaign ${c.id} completed`);
      }
      return opened;
    });
  }
}
