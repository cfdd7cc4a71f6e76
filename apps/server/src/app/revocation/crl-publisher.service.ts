import { Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { buildCrl, encodeRevokedEntry, isRevocationReason } from '@certfleet/pki';
import { isUuid } from '../../common/ids';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { IssuerUnavailableError, IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';

export interface PublishedCrl {
  issuingCaId: string;
  crlNumber: string;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: number;
  der: Buffer;
}

interface CrlStateRow {
  crl_number: string;
  this_update: Date | null;
  next_update: Date | null;
  last_revocation_seq: string;
  entries: number;
  der: Buffer | null;
}

/** The revoked entries of one CA, DER-encoded once, in revocation order. */
interface EntryCache {
  seq: bigint;
  list: Buffer[];
}

const REFRESH_CHECK_MS = 60_000;

/**
 * Publishes each issuing CA's CRL: at once after a revocation and again before nextUpdate. The
 * entries are kept encoded in memory and only revocations made since are read, so a new CRL costs
 * one signature over the concatenation, whatever the number already revoked. The row lock on the
 * CA's `issuing_ca_crls` row orders revocations and CRLs, so with several replicas each CRL is
 * produced once: whoever holds the lock builds it, the others then find it current.
 */
@Injectable()
export class CrlPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CRL');
  private readonly entries = new Map<string, EntryCache>();
  private readonly served = new Map<string, PublishedCrl>();
  /** Per CA, the lowest number the next CRL may have (after a failed store, see publish). */
  private readonly skipTo = new Map<string, bigint>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
  ) {}

  onApplicationBootstrap(): void {
    // Encode the revoked entries now rather than in the first revocation after a start.
    setTimeout(() => void this.warm().catch((err) => this.logger.warn(`CRL warm-up failed: ${(err as Error).message}`)), 1000).unref();
    const every = Math.min(REFRESH_CHECK_MS, (this.config.revocation.crlValidityHours * 3_600_000) / 8);
    this.timer = setInterval(() => void this.refreshDue().catch((err) => this.logger.error(`CRL refresh failed: ${(err as Error).message}`)), every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private get validityMs(): number {
    return this.config.revocation.crlValidityHours * 3_600_000;
  }

  /**
   * Locks the CA's CRL row (creating it on first use). Revocations take this lock before they draw
   * their revocation_seq, so sequence order is commit order per CA and an incremental read misses none.
   */
  async lockCrlRow(m: EntityManager, caId: string): Promise<CrlStateRow> {
    await m.query(
      `INSERT INTO "issuing_ca_crls" ("issuing_ca_id", "crl_number", "last_revocation_seq", "entries") VALUES ($1, 0, 0, 0) ON CONFLICT ("issuing_ca_id") DO NOTHING`,
      [caId],
    );
    const [row] = queryRows<CrlStateRow>(
      await m.query(`SELECT "crl_number", "this_update", "next_update", "last_revocation_seq", "entries", NULL AS "der" FROM "issuing_ca_crls" WHERE "issuing_ca_id" = $1 FOR UPDATE`, [caId]),
    );
    return row;
  }

  /**
   * Makes a new CRL for `caId` unless the stored one already holds every revocation and is not
   * past half its validity (`force` makes one anyway). Returns the CRL now current.
   */
  async publish(caId: string, { force = false } = {}): Promise<PublishedCrl> {
    const ca = await this.ds.getRepository(IssuingCa).findOne({ where: { id: caId } });
    if (!ca) throw new NotFoundException(`no issuing CA ${caId}`);
    const signer = this.cas.loadedCa(ca);
    if (signer instanceof IssuerUnavailableError) throw signer;
    let early: PublishedCrl | undefined;
    let published: PublishedCrl;
    try {
      published = await this.ds.transaction(async (m) => {
        const state = await this.lockCrlRow(m, caId);
        const cache = await this.catchUp(m, caId);
        const now = new Date();
        const current = BigInt(state.last_revocation_seq) >= cache.seq && state.next_update !== null && state.next_update.getTime() - now.getTime() > this.validityMs / 2;
        if (current && !force) {
          if (this.sharedDatabase) return this.readStored(m, caId);
          // Embedded PGlite keeps CRL bytes in memory only; after a restart a new one is made.
          const mine = this.served.get(caId);
          if (mine && mine.crlNumber === String(state.crl_number)) return mine;
        }
        const stored = BigInt(state.crl_number) + 1n;
        const crlNumber = stored > (this.skipTo.get(caId) ?? 0n) ? stored : this.skipTo.get(caId)!;
        const nextUpdate = new Date(Math.min(now.getTime() + this.validityMs, signer.notAfter.getTime()));
        const der = buildCrl(signer, { crlNumber, thisUpdate: now, nextUpdate, entries: cache.list });
        // Served from here at once; storing ~5 MB for other replicas takes longer than signing it.
        early = { issuingCaId: caId, crlNumber: crlNumber.toString(), thisUpdate: now, nextUpdate, entries: cache.list.length, der };
        this.served.set(caId, early);
        await m.query(
          `UPDATE "issuing_ca_crls" SET "crl_number" = $2, "this_update" = $3, "next_update" = $4, "last_revocation_seq" = $5, "entries" = $6, "der" = $7 WHERE "issuing_ca_id" = $1`,
          [caId, crlNumber.toString(), now, nextUpdate, cache.seq.toString(), cache.list.length, this.sharedDatabase ? der : null],
        );
        return early;
      });
    } catch (err) {
      if (early) {
        // It may have been served: never reuse its number for different content (RFC 5280 5.2.3).
        this.skipTo.set(caId, BigInt(early.crlNumber) + 1n);
        if (this.served.get(caId) === early) this.served.delete(caId);
      }
      throw err;
    }
    this.served.set(caId, published);
    return published;
  }

  /**
   * The CRL to serve: the one this replica made or read last, unless another replica has stored a
   * newer one since (embedded PGlite has one server process: nothing to ask then).
   */
  async current(caId: string): Promise<PublishedCrl> {
    if (!isUuid(caId)) throw new NotFoundException(`no issuing CA ${caId}`);
    const cached = this.served.get(caId);
    if (!this.sharedDatabase) return cached && cached.nextUpdate.getTime() > Date.now() ? cached : this.publish(caId);
    const [row] = queryRows<{ crl_number: string; next_update: Date | null; has_der: boolean }>(
      await this.ds.query(`SELECT "crl_number", "next_update", "der" IS NOT NULL AS "has_der" FROM "issuing_ca_crls" WHERE "issuing_ca_id" = $1`, [caId]),
    );
    const usable = row?.has_der && row.next_update !== null && row.next_update.getTime() > Date.now();
    if (!usable) return this.publish(caId);
    if (cached && BigInt(cached.crlNumber) >= BigInt(row.crl_number) && cached.nextUpdate.getTime() > Date.now()) return cached;
    const stored = await this.readStored(this.ds.manager, caId);
    this.served.set(caId, stored);
    return stored;
  }

  /**
   * Loads and encodes every CA's revoked entries. Safe without the CRL row lock: revocations of a
   * CA commit in sequence order (they hold that lock), so the committed ones are always a prefix.
   */
  async warm(): Promise<void> {
    const cas = queryRows<{ id: string }>(await this.ds.query(`SELECT "id" FROM "issuing_cas" WHERE "certificate_pem" IS NOT NULL`));
    for (const { id } of cas) await this.catchUp(this.ds.manager, id);
    await this.refreshDue();
  }

  /** Publishes what is due: CAs with no CRL, one past half its validity, or revocations it lacks. */
  async refreshDue(now = new Date()): Promise<number> {
    const due = queryRows<{ id: string }>(
      await this.ds.query(
        `SELECT ca."id" FROM "issuing_cas" ca
           LEFT JOIN "issuing_ca_crls" c ON c."issuing_ca_id" = ca."id"
          WHERE ca."certificate_pem" IS NOT NULL AND ca."not_after" > $1
            AND (c."this_update" IS NULL OR c."next_update" < $2
                 OR c."last_revocation_seq" < (SELECT coalesce(max(i."revocation_seq"), 0) FROM "issued_certificates" i WHERE i."issuing_ca_id" = ca."id" AND i."revocation_seq" IS NOT NULL))`,
        [now, new Date(now.getTime() + this.validityMs / 2)],
      ),
    );
    for (const { id } of due) {
      try {
        await this.publish(id);
      } catch (err) {
        this.logger.error(`cannot publish the CRL of issuing CA ${id}: ${(err as Error).message}`);
      }
    }
    return due.length;
  }

  private async readStored(m: EntityManager, caId: string): Promise<PublishedCrl> {
    const [row] = queryRows<CrlStateRow>(
      await m.query(`SELECT "crl_number", "this_update", "next_update", "last_revocation_seq", "entries", "der" FROM "issuing_ca_crls" WHERE "issuing_ca_id" = $1`, [caId]),
    );
    const der = Buffer.from(row.der!);
    return { issuingCaId: caId, crlNumber: String(row.crl_number), thisUpdate: row.this_update!, nextUpdate: row.next_update!, entries: row.entries, der };
  }

  /**
   * Only replicas sharing a PostgreSQL database need the CRL bytes stored. Embedded PGlite (one
   * process) keeps them in memory: writing ~5 MB into it took longer than building and signing.
   */
  private get sharedDatabase(): boolean {
    return Boolean(this.config.databaseUrl);
  }

  /** Reads (under the CRL row lock) the revocations this replica has not encoded yet. */
  private async catchUp(m: EntityManager, caId: string): Promise<EntryCache> {
    let cache = this.entries.get(caId);
    if (!cache) {
      cache = { seq: 0n, list: [] };
      this.entries.set(caId, cache);
    }
    const rows = queryRows<{ serial: string; revoked_at: Date; revocation_reason: string | null; revocation_seq: string }>(
      await m.query(
        `SELECT "serial", "revoked_at", "revocation_reason", "revocation_seq" FROM "issued_certificates"
          WHERE "issuing_ca_id" = $1 AND "revocation_seq" > $2 ORDER BY "revocation_seq"`,
        [caId, cache.seq.toString()],
      ),
    );
    for (const row of rows) {
      // Two readers (warm-up and a publish) may overlap: each entry goes in once, in order.
      if (BigInt(row.revocation_seq) <= cache.seq) continue;
      const reason = isRevocationReason(row.revocation_reason) ? row.revocation_reason : 'unspecified';
      cache.list.push(encodeRevokedEntry({ serialHex: row.serial, revokedAt: new Date(row.revoked_at), reason }));
      cache.seq = BigInt(row.revocation_seq);
    }
    return cache;
  }
}
