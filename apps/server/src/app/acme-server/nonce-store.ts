import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';

/** How long a Replay-Nonce may wait for its request. */
export const NONCE_TTL_MS = 60 * 60 * 1000;
const SWEEP_EVERY = 1000;

/**
 * Replay-Nonces in the database, so every replica accepts a nonce any of them handed out and each
 * is accepted once: using a nonce deletes its row (the delete decides between two racing requests).
 */
@Injectable()
export class NonceStore {
  private issued = 0;

  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async issue(): Promise<string> {
    const value = randomBytes(16).toString('base64url');
    await this.ds.query(`INSERT INTO "acme_nonces" ("value", "expires_at") VALUES ($1, $2)`, [value, new Date(Date.now() + NONCE_TTL_MS)]);
    if (++this.issued % SWEEP_EVERY === 0) await this.ds.query(`DELETE FROM "acme_nonces" WHERE "expires_at" < now()`);
    return value;
  }

  /** True once for a nonce this server issued and that has not expired; false for anything else. */
  async consume(value: unknown): Promise<boolean> {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) return false;
    const rows = queryRows<{ value: string }>(await this.ds.query(`DELETE FROM "acme_nonces" WHERE "value" = $1 AND "expires_at" > now() RETURNING "value"`, [value]));
    return rows.length === 1;
  }
}
