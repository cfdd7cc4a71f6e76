import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { DeliveryWorker } from '../notifications/delivery-worker';
import { AlertEvaluator, PassResult } from './alert-evaluator';

/** Runs the evaluation pass every CERTFLEET_ALERT_SECONDS (0: never), then delivers what it queued. */
@Injectable()
export class AlertScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AlertScheduler');
  private timer?: NodeJS.Timeout;
  private running: Promise<PassResult> | null = null;
  private stopped = false;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(AlertEvaluator) private readonly evaluator: AlertEvaluator,
    @Inject(DeliveryWorker) private readonly delivery: DeliveryWorker,
  ) {}

  onApplicationBootstrap(): void {
    // The first pass waits a little so a starting server first takes agent reports.
    if (this.config.alerts.intervalSeconds > 0) this.schedule(Math.min(30, this.config.alerts.intervalSeconds) * 1000);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runNow().catch(() => undefined).finally(() => this.schedule(this.config.alerts.intervalSeconds * 1000)), ms);
    this.timer.unref();
  }

  /** One pass now (or the one under way), then its notifications are sent. */
  runNow(): Promise<PassResult> {
    if (this.stopped) return Promise.reject(new Error('the server is stopping'));
    if (!this.running) {
      this.running = this.evaluator
        .evaluate()
        .then((r) => {
          if (r.notifications > 0) void this.delivery.deliverDue().catch((err) => this.logger.error(`delivery failed: ${(err as Error).message}`));
          return r;
        })
        .catch((err) => {
          this.logger.error(`alert pass failed: ${(err as Error).message}`);
          throw err;
        })
        .finally(() => (this.running = null));
    }
    return this.running;
  }
}
