import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { retryDelayMs } from '../jobs/retry-backoff';
import { ALERT_CLOCK, Clock } from '../alerts/clock';
import { ChannelsService, sendWithTimeout } from './channels.service';
import { NotificationChannel } from './notification-channel.entity';
import { AlertMessage } from './notification-message';

const BATCH = 200;
const TICK_MS = 5_000;

export interface DeliveryPassResult {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * Sends due notifications. A batch is claimed first (its next attempt pushed past the timeout, in
 * a short transaction with SKIP LOCKED, so replicas never send the same one twice at once), then
 * every delivery is sent concurrently, each bounded by its channel's timeout and recorded as soon
 * as it settles: a slow or failing channel delays nobody else. Failures retry with exponential
 * backoff and jitter (retryDelayMs) until the attempts run out.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AlertDelivery');
  private timer?: NodeJS.Timeout;
  private running: Promise<DeliveryPassResult> | null = null;
  private stopped = false;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ChannelsService) private readonly channels: ChannelsService,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(ALERT_CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.alerts.intervalSeconds > 0) this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.deliverDue().catch((err) => this.logger.error(`delivery pass failed: ${(err as Error).message}`)).finally(() => this.schedule()), TICK_MS);
    this.timer.unref();
  }

  /** Sends everything due now (or joins the pass under way). */
  deliverDue(): Promise<DeliveryPassResult> {
    if (!this.running) this.running = this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<DeliveryPassResult> {
    const total: DeliveryPassResult = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
    for (;;) {
      const r = await this.batch();
      for (const k of Object.keys(total) as (keyof DeliveryPassResult)[]) total[k] += r[k];
      if (r.attempted < BATCH || this.stopped) return total;
    }
  }

  private async batch(): Promise<DeliveryPassResult> {
    const now = this.clock.now();
    const channels = new Map((await this.ds.getRepository(NotificationChannel).find()).map((c) => [c.id, c]));
    const leaseMs = Math.max(...[...channels.values()].map((c) => this.channels.timeoutMs(c)), 1000) + 30_000;
    const claimed = queryRows<{ id: string; channel_id: string; message: Omit<AlertMessage, 'deliveryId'>; recipients: string[]; attempts: number }>(
      await this.ds.query(
        `UPDATE "notification_deliveries" SET "next_attempt_at" = $2
          WHERE "id" IN (SELECT "id" FROM "notification_deliveries" WHERE "status" = 'pending' AND "next_attempt_at" <= $1 ORDER BY "next_attempt_at" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
          RETURNING "id", "channel_id", "message", "recipients", "attempts"`,
        [now, new Date(now.getTime() + leaseMs)],
      ),
    );
    const result: DeliveryPassResult = { attempted: claimed.length, delivered: 0, retrying: 0, failed: 0 };
    await Promise.all(
      claimed.map(async (d) => {
        const channel = channels.get(d.channel_id);
        let error: string | null = null;
        try {
          if (!channel) throw new Error('channel removed');
          await sendWithTimeout(this.channels.senderFor(channel, () => this.clock.now()), { ...d.message, deliveryId: d.id }, d.recipients, this.channels.timeoutMs(channel));
        } catch (err) {
          error = (err as Error).message.slice(0, 1000);
        }
        const attempts = d.attempts + 1;
        const at = this.clock.now();
        if (!error) {
          result.delivered++;
          await this.ds.query(`UPDATE "notification_deliveries" SET "status" = 'delivered', "attempts" = $2, "delivered_at" = $3, "last_error" = NULL WHERE "id" = $1`, [d.id, attempts, at]);
        } else if (attempts >= this.config.alerts.deliveryMaxAttempts) {
          result.failed++;
          this.logger.warn(`notification ${d.id} via ${channel?.name ?? 'removed channel'} failed for good after ${attempts} attempt(s): ${error}`);
          await this.ds.query(`UPDATE "notification_deliveries" SET "status" = 'failed', "attempts" = $2, "last_error" = $3 WHERE "id" = $1`, [d.id, attempts, error]);
        } else {
          result.retrying++;
          await this.ds.query(`UPDATE "notification_deliveries" SET "attempts" = $2, "last_error" = $3, "next_attempt_at" = $4 WHERE "id" = $1`, [d.id, attempts, error, new Date(at.getTime() + retryDelayMs(attempts))]);
        }
      }),
    );
    return result;
  }
}
