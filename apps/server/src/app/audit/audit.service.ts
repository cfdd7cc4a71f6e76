import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { JsonObject, toJsonObject } from '../../common/json';
import { queryRows } from '../../database/query-rows';
import { AuditEvent } from './audit-event.entity';
import { canonicalJson } from './canonical-json';

export interface AuditEntry {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  /** { before?, after?, ...context }. Never put secrets here. */
  detail?: JsonObject;
}

export interface AuditFilter {
  subjectType?: string;
  subjectId?: string;
  action?: string;
  actor?: string;
  since?: Date;
  /** Events after this sequence number (paging). */
  afterSeq?: string;
  limit?: number;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  lastSeq: string;
  /** The first event whose hash or link does not match, when not ok. */
  brokenAt?: string;
  reason?: string;
}

const GENESIS = '0'.repeat(64);
const PAGE = 1000;

export function auditHash(prevHash: string, e: { seq: string; at: Date; actor: string; action: string; subjectType: string; subjectId: string; detail: JsonObject }): string {
  const body = canonicalJson({ seq: e.seq, at: e.at.toISOString(), actor: e.actor, action: e.action, subjectType: e.subjectType, subjectId: e.subjectId, detail: e.detail });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * The append-only, hash-chained audit trail. Events are written in the caller's transaction, so an
 * event exists exactly when the change it describes was committed.
 */
@Injectable()
export class AuditService {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** Appends events inside `m`'s transaction. The chain-head row lock orders concurrent writers. */
  async record(m: EntityManager, ...entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const [head] = queryRows<{ last_seq: string; last_hash: string }>(
      await m.query(`UPDATE "audit_chain_head" SET "last_seq" = "last_seq" + $1 WHERE "id" = 1 RETURNING "last_seq" - $1 AS "last_seq", "last_hash"`, [entries.length]),
    );
    let seq = BigInt(head.last_seq);
    let prevHash = head.last_hash;
    const rows: Array<Omit<AuditEvent, 'detail'> & { detail: JsonObject }> = [];
    const at = new Date();
    for (const entry of entries) {
      seq += 1n;
      const event = { seq: seq.toString(), at, actor: entry.actor, action: entry.action, subjectType: entry.subjectType, subjectId: entry.subjectId, detail: toJsonObject(entry.detail ?? {}) };
      const hash = auditHash(prevHash, event);
      rows.push({ ...event, prevHash, hash });
      prevHash = hash;
    }
    // The events and the new chain-head hash in one statement (one round trip however many events).
    await m.query(
      `WITH "added" AS (
         INSERT INTO "audit_events" ("seq", "at", "actor", "action", "subject_type", "subject_id", "detail", "prev_hash", "hash")
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::jsonb[], $8::varchar[], $9::varchar[])
       )
       UPDATE "audit_chain_head" SET "last_hash" = $10 WHERE "id" = 1`,
      [
        rows.map((r) => r.seq),
        rows.map((r) => r.at),
        rows.map((r) => r.actor),
        rows.map((r) => r.action),
        rows.map((r) => r.subjectType),
        rows.map((r) => r.subjectId),
        rows.map((r) => JSON.stringify(r.detail)),
        rows.map((r) => r.prevHash),
        rows.map((r) => r.hash),
        prevHash,
      ],
    );
  }

  /** Records in a transaction of its own (for events not tied to another write). */
  recordNow(...entries: AuditEntry[]): Promise<void> {
    return this.ds.transaction((m) => this.record(m, ...entries));
  }

  async list(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const q = this.ds.getRepository(AuditEvent).createQueryBuilder('e').orderBy('e.seq', 'ASC').take(Math.min(filter.limit ?? 100, 10_000));
    if (filter.subjectType) q.andWhere('e.subjectType = :st', { st: filter.subjectType });
    if (filter.subjectId) q.andWhere('e.subjectId = :sid', { sid: filter.subjectId });
    if (filter.action) q.andWhere('e.action LIKE :action', { action: filter.action.endsWith('*') ? `${filter.action.slice(0, -1)}%` : filter.action });
    if (filter.actor) q.andWhere('e.actor = :actor', { actor: filter.actor });
    if (filter.since) q.andWhere('e.at >= :since', { since: filter.since });
    if (filter.afterSeq) q.andWhere('e.seq > :after', { after: filter.afterSeq });
    return q.getMany();
  }

  /** Recomputes the whole chain, page by page; reports the first event that does not match. */
  async verify(): Promise<AuditVerification> {
    let prevHash = GENESIS;
    let expected = 1n;
    let checked = 0;
    for (;;) {
      const page = await this.ds.getRepository(AuditEvent).createQueryBuilder('e').where('e.seq >= :from', { from: expected.toString() }).orderBy('e.seq', 'ASC').take(PAGE).getMany();
      for (const e of page) {
        const fail = (reason: string): AuditVerification => ({ ok: false, checked, lastSeq: (expected - 1n).toString(), brokenAt: e.seq, reason });
        if (BigInt(e.seq) !== expected) return fail(`event ${expected} is missing`);
        if (e.prevHash !== prevHash) return fail('its link to the previous event does not match');
        if (auditHash(prevHash, e) !== e.hash) return fail('its content does not match its hash (edited)');
        prevHash = e.hash;
        expected += 1n;
        checked += 1;
      }
      if (page.length < PAGE) break;
    }
    const [head] = queryRows<{ last_seq: string; last_hash: string }>(await this.ds.query(`SELECT "last_seq", "last_hash" FROM "audit_chain_head" WHERE "id" = 1`));
    if (BigInt(head.last_seq) !== expected - 1n || head.last_hash !== prevHash) {
      return { ok: false, checked, lastSeq: (expected - 1n).toString(), brokenAt: (expected).toString(), reason: `the chain head says ${head.last_seq} events; the trail ends at ${expected - 1n} (events were deleted from the end)` };
    }
    return { ok: true, checked, lastSeq: String(head.last_seq) };
  }
}
