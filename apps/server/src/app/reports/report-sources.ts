// The reports as row sources: each yields batches read by keyset pagination (never the whole
// inventory in memory) or, for the aggregate ones, one small result.
import { BadRequestException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';
import { INVENTORY_SOURCES, inventoryPage, type InventorySource } from '../inventory/certificate-inventory';
import { certificateStatus, daysLeft, type ExpiryThresholds } from '../inventory/certificate-status';
import type { Cell } from './csv';

export const REPORT_KINDS = ['inventory', 'expiring', 'violations', 'crypto', 'trust'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export interface ReportOptions {
  /** expiring: within this many days (expired included). */
  days?: number;
  /** expiring: group by owner instead of one row per certificate copy. */
  by?: 'owner';
  /** trust: CA subject (substring, case-insensitive), subject key identifier or fingerprint (hex). */
  ca?: string;
  /** inventory: only keys of this algorithm (RSA, EC, ...). */
  keyAlgorithm?: string;
  /** inventory: only keys smaller than this many bits. */
  keyBitsBelow?: number;
  /** inventory: only signatures with this digest (md5, sha1). */
  signatureHash?: 'md5' | 'sha1';
}

export interface ReportSource {
  columns: string[];
  batches(): AsyncGenerator<Cell[][]>;
}

const BATCH = 1000;
const FIRST = { a: '00000000-0000-0000-0000-000000000000', k: '' };
const SIGNATURE_PATTERNS = { md5: 'md5', sha1: 'sha-?1([^0-9]|$)' };
// Classical public-key algorithms a cryptographically relevant quantum computer breaks (Shor).
const QUANTUM_VULNERABLE = new Set(['RSA', 'RSASSA-PSS', 'EC', 'Ed25519', 'Ed448', 'DSA', 'X25519', 'X448', 'DH']);

type Row = Record<string, unknown>;

export class ReportSources {
  constructor(
    private readonly ds: DataSource,
    private readonly expiry: ExpiryThresholds,
  ) {}

  async source(kind: ReportKind, options: ReportOptions, now = new Date()): Promise<ReportSource> {
    const owners = await this.ownerJoin();
    await this.ensureStatistics();
    switch (kind) {
      case 'inventory':
        return this.copies(this.inventoryFilter(options), owners, now);
      case 'expiring': {
        const days = options.days ?? 30;
        const until = new Date(now.getTime() + days * 86_400_000);
        if (options.by === 'owner') return this.expiringByOwner(until, owners);
        return this.copies({ where: 'i.not_after <= $3', params: [until] }, owners, now);
      }
      case 'violations':
        return this.violations(owners);
      case 'crypto':
        return this.crypto();
      case 'trust':
        if (!options.ca?.trim()) throw new BadRequestException('the trust report needs ca (a CA subject, subject key identifier or fingerprint)');
        return this.trust(options.ca.trim(), now);
    }
  }

  private inventoryFilter(o: ReportOptions): { where: string; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const at = (v: unknown) => `$${params.push(v) + 2}`; // $1, $2 are the keyset cursor
    if (o.keyAlgorithm) where.push(`i.detail->>'keyAlgorithm' = ${at(o.keyAlgorithm)}`);
    if (o.keyBitsBelow !== undefined) where.push(`(i.detail->>'keySize')::int < ${at(o.keyBitsBelow)}`);
    if (o.signatureHash) where.push(`i.detail->>'signatureAlgorithm' ~* ${at(SIGNATURE_PATTERNS[o.signatureHash])}`);
    return { where: where.join(' AND '), params };
  }

  /** One row per certificate copy (host, path, entry), keyset-paginated on (location_id, item_key). */
  private copies(filter: { where: string; params: unknown[] }, owners: OwnerJoin, now: Date): ReportSource {
    const columns = ['host', 'path', 'entry', 'fingerprint_sha256', 'subject', 'issuer', 'serial', 'not_before', 'not_after', 'days_left', 'status', 'key_algorithm', 'key_size', 'key_curve', 'signature_algorithm', 'is_ca', 'self_signed', 'dns_names', 'owner'];
    // The page is cut from the primary key first, then joined: a planner that joins before limiting
    // scans the whole inventory for every page. Each row comes back as one JSON array in text: the
    // driver then decodes one field per row instead of twenty (per-field decoding was most of the
    // cost of a page), and JSON.parse builds the cells natively.
    const sql = (source: InventorySource) => `SELECT i.location_id, i.item_key, json_build_array(i.hostname, i.path, i.entry, i.fingerprint_sha256, i.subject, i.issuer, i.serial, i.not_before, i.not_after,
        i.detail->>'keyAlgorithm', i.detail->>'keySize', i.detail->>'keyCurve', i.detail->>'signatureAlgorithm', i.detail->>'isCa', i.detail->>'selfSigned',
        i.detail->'dnsNames', ${owners.column})::text AS r
      FROM ${inventoryPage(source, BATCH, filter.where)} ${owners.join} ORDER BY i.location_id, i.item_key`;
    return {
      columns,
      batches: () =>
        this.keyset(sql, filter.params, (row) => {
          const r = JSON.parse(row.r as string) as unknown[];
          const notAfter = r[8] ? new Date(r[8] as string) : null;
          const dns = r[15];
          return [
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], date(r[7]), notAfter,
            notAfter ? daysLeft(notAfter, now) : null, notAfter ? certificateStatus(notAfter, now, this.expiry) : null,
            r[9], num(r[10]), r[11] || null, r[12], r[13] === 'true', r[14] === 'true',
            Array.isArray(dns) ? dns.join(' ') : '', r[16] ?? '',
          ] as Cell[];
        }),
    };
  }

  private violations(owners: OwnerJoin): ReportSource {
    const sql = (source: InventorySource) => `SELECT i.location_id, i.item_key, i.hostname, i.path, i.entry, i.fingerprint_sha256, i.subject, f.rule_id, f.severity, f.block_issuance, f.message, f.first_seen_at, ${owners.column} AS owner
      FROM ${inventoryPage(source, BATCH, 'EXISTS (SELECT 1 FROM policy_findings f2 WHERE f2.fingerprint_sha256 = i.fingerprint_sha256)')}
      JOIN policy_findings f ON f.fingerprint_sha256 = i.fingerprint_sha256 ${owners.join}
      ORDER BY i.location_id, i.item_key, f.rule_id`;
    return {
      columns: ['host', 'path', 'entry', 'fingerprint_sha256', 'subject', 'rule', 'severity', 'blocks_issuance', 'message', 'first_seen_at', 'owner'],
      batches: () => this.keyset(sql, [], (r) => [r.hostname, r.path, r.entry, r.fingerprint_sha256, r.subject, r.rule_id, r.severity, r.block_issuance, r.message, date(r.first_seen_at), r.owner ?? ''] as Cell[]),
    };
  }

  private expiringByOwner(until: Date, owners: OwnerJoin): ReportSource {
    return {
      columns: ['owner', 'certificates', 'copies', 'expired', 'soonest_not_after'],
      batches: async function* (this: ReportSources) {
        const rows = queryRows<Row>(
          await this.ds.query(
            `SELECT coalesce(${owners.column}, '') AS owner, count(DISTINCT i.fingerprint_sha256) AS certificates, count(*) AS copies,
                    count(DISTINCT i.fingerprint_sha256) FILTER (WHERE i.not_after <= now()) AS expired, min(i.not_after) AS soonest
               FROM certificate_inventory i ${owners.join} WHERE i.not_after <= $1 GROUP BY 1 ORDER BY 5, 1`,
            [until],
          ),
        );
        yield rows.map((r) => [r.owner as string, num(r.certificates), num(r.copies), num(r.expired), date(r.soonest)] as Cell[]);
      }.bind(this),
    };
  }

  /** Algorithms in use, by distinct certificate: the post-quantum readiness view. */
  private crypto(): ReportSource {
    return {
      columns: ['key_algorithm', 'key_size', 'key_curve', 'signature_algorithm', 'certificates', 'copies', 'quantum_vulnerable'],
      batches: async function* (this: ReportSources) {
        const rows = queryRows<Row>(
          await this.ds.query(
            `SELECT detail->>'keyAlgorithm' AS key_algorithm, detail->>'keySize' AS key_size, coalesce(detail->>'keyCurve', '') AS key_curve,
                    detail->>'signatureAlgorithm' AS signature_algorithm, count(DISTINCT fingerprint_sha256) AS certificates, count(*) AS copies
               FROM certificate_inventory GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4`,
          ),
        );
        yield rows.map((r) => [r.key_algorithm, num(r.key_size), r.key_curve || null, r.signature_algorithm, num(r.certificates), num(r.copies), QUANTUM_VULNERABLE.has(String(r.key_algorithm))] as Cell[]);
      }.bind(this),
    };
  }

  /** Hosts holding a CA certificate (trust stores, bundles) that matches the CA by subject, SKI or fingerprint. */
  private trust(ca: string, now: Date): ReportSource {
    const hex = ca.replace(/:/g, '').toLowerCase();
    const sql = (source: InventorySource) => `SELECT i.location_id, i.item_key, i.hostname, i.path, i.entry, i.subject, i.fingerprint_sha256, i.detail->>'subjectKeyId' AS subject_key_id, i.not_after
      FROM ${inventoryPage(source, BATCH, `(i.detail->>'isCa')::boolean AND (i.subject ILIKE $3 OR i.detail->>'subjectKeyId' = $4 OR i.fingerprint_sha256 = $4)`)}
      ORDER BY i.location_id, i.item_key`;
    return {
      columns: ['host', 'path', 'entry', 'ca_subject', 'fingerprint_sha256', 'subject_key_id', 'not_after', 'status'],
      batches: () =>
        this.keyset(sql, [`%${ca.replace(/[\\%_]/g, (c) => '\\' + c)}%`, hex], (r) => {
          const notAfter = r.not_after ? new Date(r.not_after as string) : null;
          return [r.hostname, r.path, r.entry, r.subject, r.fingerprint_sha256, r.subject_key_id, notAfter, notAfter ? certificateStatus(notAfter, now, this.expiry) : null] as Cell[];
        }),
    };
  }

  /**
   * Pages in key order. The next page is requested as soon as the current one arrived, so the
   * database works on it while the caller formats and writes this one; at most one page is read
   * ahead, so memory stays bounded and a slow reader still holds the export back.
   */
  private async *keyset(sql: (source: InventorySource) => string, params: unknown[], toCells: (r: Row) => Cell[]): AsyncGenerator<Cell[][]> {
    const fetch = (source: number, a: string, k: string): { source: number; page: Promise<Row[]> } => {
      const page = this.ds.query(sql(INVENTORY_SOURCES[source]), [a, k, ...params]).then((r) => queryRows<Row>(r));
      page.catch(() => undefined); // awaited below; a read-ahead abandoned by a reader that left must not be an unhandled rejection
      return { source, page };
    };
    // Each source of the inventory in turn (see inventoryPage).
    let next: { source: number; page: Promise<Row[]> } | null = fetch(0, FIRST.a, FIRST.k);
    while (next) {
      const { source, page }: { source: number; page: Promise<Row[]> } = next;
      const rows: Row[] = await page;
      const last: Row | undefined = rows[rows.length - 1];
      // The violations query returns several rows per copy; a short batch of copies ends the source.
      const full: boolean = rows.length >= BATCH && new Set(rows.map((r) => `${r.location_id as string} ${r.item_key as string}`)).size >= BATCH;
      if (full && last) next = fetch(source, last.location_id as string, last.item_key as string);
      else next = source + 1 < INVENTORY_SOURCES.length ? fetch(source + 1, FIRST.a, FIRST.k) : null;
      if (rows.length > 0) yield rows.map(toCells);
    }
  }

  /**
   * The keyset pages are only cheap when the planner walks the primary key; without statistics on
   * inventory_items (PGlite has no autovacuum, and a freshly loaded PostgreSQL table has none yet) it
   * estimates a handful of rows and picks a sequential scan plus sort for every page, which makes an
   * export quadratic in the inventory size. Analyzes the table when it was never analyzed or has
   * more than doubled since (the sample is bounded, so this costs well under a second).
   */
  private async ensureStatistics(): Promise<void> {
    const [stats] = queryRows<{ tuples: number; pages: number; now_pages: number }>(
      await this.ds.query(
        `SELECT c.reltuples::float8 AS tuples, c.relpages::int AS pages, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS now_pages
           FROM pg_class c WHERE c.oid = to_regclass('inventory_items')`,
      ),
    );
    if (!stats) return;
    const stale = Number(stats.tuples) < 0 || Number(stats.now_pages) > 2 * Number(stats.pages) + 64;
    if (!stale) return;
    await this.ds.query('ANALYZE inventory_items').catch(() => undefined); // not the owner: the report still works, only slower
  }

  /**
   * Owner: the team assigned by hand to the certificate (ownership's certificate_owners, key
   * fp:<sha256>) when that table exists; ownership rules are not applied here.
   */
  private async ownerJoin(): Promise<OwnerJoin> {
    const [{ t }] = queryRows<{ t: string | null }>(await this.ds.query(`SELECT to_regclass('certificate_owners')::text AS t`));
    return t ? { join: `LEFT JOIN certificate_owners o ON o.subject_key = 'fp:' || i.fingerprint_sha256`, column: 'o.team' } : { join: '', column: 'NULL::text' };
  }
}

interface OwnerJoin {
  join: string;
  column: string;
}

const date = (v: unknown): Date | null => (v ? new Date(v as string) : null);
const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));
