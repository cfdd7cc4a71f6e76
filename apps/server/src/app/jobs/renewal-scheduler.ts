import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { JobsService } from './jobs.service';

/**
 * Starts jobs for due managed certificates: it wakes at the next renewal time (so a certificate is
 * worked on the moment it is due), at least every `schedulerIntervalSeconds` (changes made by other
 * replicas), and at once when asked (a new managed certificate, renew-now). Every replica may run it:
 * the database keeps one open job per certificate.
 */
@Injectable()
export class RenewalScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RenewalScheduler');
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** When the last pass asked for due certificates. */
  private lastPassAt = 0;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(JobsService) private readonly jobs: JobsService,
  ) {}

  onApplicationBootstrap(): void {
    void this.kick();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Runs a pass now (or right after the one in progress). */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass()
      .catch((err) => this.logger.error(`scheduling pass failed: ${(err as Error).message}`))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.kick();
        } else {
          void this.planNextPass();
        }
      });
    return this.running;
  }

  /** Sleeps until the next renewal time, or the interval if that comes first. */
  private async planNextPass(): Promise<void> {
    const intervalMs = this.config.renewal.schedulerIntervalSeconds * 1000;
    const next = await this.jobs.nextDueAt().catch(() => null);
    // Due before the last pass looked means something kept it from starting: do not spin on it. Due
    // since then (a timer fires a little early, or the pass took a while): go now.
    const stuck = next !== null && next.getTime() <= this.lastPassAt;
    const wait = next === null ? intervalMs : Math.min(intervalMs, stuck ? 1000 : Math.max(0, next.getTime() - Date.now()));
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.kick(), wait);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    this.lastPassAt = Date.now();
    const batch = 1000;
    let total = 0;
    for (let n = batch; n === batch && !this.stopped; ) {
      n = await this.jobs.createDueJobs(new Date(), batch);
      total += n;
    }
    if (total > 0) this.logger.log(`started ${total} certificate job(s)`);
  }
}
