// The SQL side of revocation checking: which certificates to check, and where results go. One
// row per certificate fingerprint, however many hosts hold the certificate.
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';
import { CertificateRevocationStatus } from './certificate-revocation-status.entity';
import type { Leaf } from './issuer-finder';

export interface DueCertificate extends Leaf {
  notAfter: Date | null;
}

export type Selection =
  /** Never checked first, then those whose next_check_at has passed. */
  | { kind: 'due'; now: Date }
  /** Everything, least recently checked first (a check asked for by a person). */
  | { kind: 'all' }
  | { kind: 'fingerprints'; fingerprints: string[] };

const SAVE_BATCH = 500;

export class RevocationStatusStore {
  constructor(private readonly ds: DataSource) {}

  /** Up to `limit` distinct certificates (with their DER) that `selection` picks. */
  async select(selection: Selection, limit: number): Promise<DueCertificate[]> {
    return this.load(await this.pick(selection, limit));
  }

  /** How many distinct certificates `selection` would pick without a limit. */
  async count(selection: Selection): Promise<number> {
    const { sql, params } = selectionSql(selection);
    const [row] = queryRows<{ n: string | number }>(await this.ds.query(`SELECT count(*) AS n FROM (${sql}) picked`, params));
    return Number(row?.n ?? 0);
  }

  async save(rows: CertificateRevocationStatus[]): Promise<void> {
    const repository = this.ds.getRepository(CertificateRevocationStatus);
    for (let i = 0; i < rows.length; i += SAVE_BATCH) await repository.upsert(rows.slice(i, i + SAVE_BATCH), ['fingerprintSha256']);
  }

  /** Drops answers for certificates no host reports any more. */
  async prune(): Promise<void> {
    await this.ds.query(
      `DELETE FROM certificate_revocation_status s
       WHERE NOT EXISTS (SELECT 1 FROM inventory_items i WHERE i.fingerprint_sha256 = s.fingerprint_sha256)`,
    );
  }

  /** The earliest next_check_at, or null when nothing was checked yet. */
  async nextCheckAt(): Promise<Date | null> {
    const [row] = queryRows<{ at: Date | string | null }>(await this.ds.query(`SELECT min(next_check_at) AS at FROM certificate_revocation_status`));
    return row?.at ? new Date(row.at) : null;
  }

  private async pick(selection: Selection, limit: number): Promise<string[]> {
    const { sql, params } = selectionSql(selection);
    const rows = queryRows<{ fingerprint_sha256: string }>(await this.ds.query(`${sql} LIMIT ${Math.trunc(limit)}`, params));
    return rows.map((row) => row.fingerprint_sha256);
  }

  private async load(fingerprints: string[]): Promise<DueCertificate[]> {
    if (!fingerprints.length) return [];
    const rows = queryRows<{ fingerprint_sha256: string; der: Uint8Array; issuer: string | null; not_after: Date | string | null }>(
      await this.ds.query(
        `SELECT DISTINCT ON (fingerprint_sha256) fingerprint_sha256, der, issuer, not_after FROM inventory_items
         WHERE kind = 'certificate' AND der IS NOT NULL AND fingerprint_sha256 = ANY($1) ORDER BY fingerprint_sha256`,
        [fingerprints],
      ),
    );
    return rows.map((row) => ({
      fingerprintSha256: row.fingerprint_sha256,
      der: Buffer.from(row.der),
      issuer: row.issuer ?? '',
      notAfter: row.not_after ? new Date(row.not_after) : null,
    }));
  }
}

/** Distinct fingerprints of reported certificates (with DER), in the order `selection` wants them. */
function selectionSql(selection: Selection): { sql: string; params: unknown[] } {
  const base = `SELECT i.fingerprint_sha256, s.next_check_at, s.checked_at FROM inventory_items i
    LEFT JOIN certificate_revocation_status s ON s.fingerprint_sha256 = i.fingerprint_sha256
    WHERE i.kind = 'certificate' AND i.der IS NOT NULL AND i.fingerprint_sha256 IS NOT NULL`;
  const group = `GROUP BY i.fingerprint_sha256, s.next_check_at, s.checked_at`;
  switch (selection.kind) {
    case 'due':
      return {
        sql: `${base} AND (s.fingerprint_sha256 IS NULL OR s.next_check_at <= $1) ${group} ORDER BY s.next_check_at ASC NULLS FIRST, i.fingerprint_sha256`,
        params: [selection.now],
      };
    case 'all':
      return { sql: `${base} ${group} ORDER BY s.checked_at ASC NULLS FIRST, i.fingerprint_sha256`, params: [] };
    case 'fingerprints':
      return { sql: `${base} AND i.fingerprint_sha256 = ANY($1) ${group} ORDER BY i.fingerprint_sha256`, params: [selection.fingerprints] };
  }
}
