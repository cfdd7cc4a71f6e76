import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { EntityManager } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { OcspResponder } from './ocsp-responder.service';

const CHANNEL = 'certfleet_revocations';
// NOTIFY payloads must stay under 8000 bytes: past this many serials, replicas drop all cached answers.
const MAX_SERIALS_PER_NOTICE = 100;
const RECONNECT_MS = 2000;

/**
 * Tells the other replicas (PostgreSQL LISTEN/NOTIFY, delivered at commit) which certificates were
 * revoked, so none keeps serving a cached "good". While the listening connection is down this
 * replica's OCSP cache is off. With embedded PGlite there is only one replica: nothing to do.
 */
@Injectable()
export class RevocationEvents implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RevocationEvents');
  private client: Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(OcspResponder) private readonly ocsp: OcspResponder,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.databaseUrl) await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  /** Queues the notice in `m`'s transaction (sent only if it commits). */
  async notifyRevoked(m: EntityManager, revoked: Array<{ caId: string; serial: string }>): Promise<void> {
    if (!this.config.databaseUrl || revoked.length === 0) return;
    const payload = revoked.length > MAX_SERIALS_PER_NOTICE ? '*' : revoked.map((r) => `${r.caId}:${r.serial}`).join(',');
    await m.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
  }

  private async listen(): Promise<void> {
    this.ocsp.setCacheEnabled(false);
    const client = new Client({ connectionString: this.config.databaseUrl });
    client.on('notification', (n) => this.received(n.payload ?? '*'));
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    this.client = client;
    // Anything revoked while not listening may be cached: start clean.
    this.ocsp.forgetAll();
    this.ocsp.setCacheEnabled(true);
  }

  private received(payload: string): void {
    if (payload === '*') return this.ocsp.forgetAll();
    for (const item of payload.split(',')) {
      const [caId, serial] = item.split(':');
      if (caId && serial) this.ocsp.forget(caId, serial);
    }
  }

  private lost(client: Client, err?: Error): void {
    if (this.client !== undefined && this.client !== client) return;
    this.client = undefined;
    this.ocsp.setCacheEnabled(false);
    client.removeAllListeners();
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    this.logger.warn(`revocation notices from other replicas not received (${err?.message ?? 'connection closed'}); OCSP answers are not cached until reconnected`);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.listen(), RECONNECT_MS);
    this.retry.unref();
  }
}
