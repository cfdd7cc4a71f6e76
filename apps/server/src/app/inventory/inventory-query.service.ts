import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isUuid } from '../../common/ids';
import { queryRows } from '../../database/query-rows';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import type { RevocationStatus } from '@certfleet/pki';
import type { InventorySource } from './certificate-inventory';
import { CertificateStatus, certificateStatus, daysLeft, notAfterRangeFor } from './certificate-status';
import { InventoryItem, InventoryItemKind } from './inventory-item.entity';

export interface CertificateFilter {
  /** Only certificates whose notAfter is within this many days (expired ones included). */
  expiringWithinDays?: number;
  /** Agent id, or hostname. */
  agent?: string;
  /** Case-insensitive substring of the issuer DN. */
  issuer?: string;
  status?: CertificateStatus;
  /** Only certificates whose last revocation check said this. */
  revocation?: RevocationStatus;
  limit?: number;
  offset?: number;
}

export interface CertificateView {
  source: InventorySource;
  /** The agent that found it; null when it is known from the ACME server only. */
  agentId: string | null;
  hostname: string;
  path: string;
  entry: string;
  fingerprintSha256: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date | null;
  notAfter: Date;
  daysLeft: number;
  status: CertificateStatus;
  detail: Record<string, unknown>;
  /** The last revocation check of this certificate (shared by every host holding it); null until checked. */
  revocation: RevocationView | null;
}

export interface RevocationView {
  status: RevocationStatus;
  reason: string | null;
  revokedAt: Date | null;
  source: 'ocsp' | 'crl' | 'none' | 'ca';
  checkedAt: Date;
  detail: string;
}

export const REVOCATION_STATUSES: RevocationStatus[] = ['good', 'revoked', 'unknown', 'unreachable'];

export interface FindingView {
  agentId: string;
  hostname: string;
  kind: InventoryItemKind;
  path: string;
  detail: Record<string, unknown>;
  updatedAt: Date;
}

const MAX_LIMIT = 10_000;

@Injectable()
export class InventoryQueryService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {}

  async certificates(filter: CertificateFilter, now = new Date()): Promise<{ total: number; items: CertificateView[] }> {
    const params: unknown[] = [];
    const where: string[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    if (filter.agent) where.push(isUuid(filter.agent) ? `i.agent_id = ${bind(filter.agent)}` : `i.hostname = ${bind(filter.agent)}`);
    if (filter.issuer) where.push(`i.issuer ILIKE ${bind(`%${escapeLike(filter.issuer)}%`)}`);
    if (filter.expiringWithinDays !== undefined) where.push(`i.not_after <= ${bind(new Date(now.getTime() + filter.expiringWithinDays * 86_400_000))}`);
    if (filter.status) {
      const { from, to } = notAfterRangeFor(filter.status, now, this.config.expiry);
      if (from) where.push(`i.not_after > ${bind(from)}`);
      if (to) where.push(`i.not_after <= ${bind(to)}`);
    }
    if (filter.revocation) where.push(`r.status = ${bind(filter.revocation)}`);
    const from = `FROM certificate_inventory i LEFT JOIN certificate_revocation_status r ON r.fingerprint_sha256 = i.fingerprint_sha256
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const [{ total }] = queryRows<{ total: string }>(await this.ds.query(`SELECT count(*) AS total ${from}`, params));
    const page = queryRows<CertificateRow>(
      await this.ds.query(
        `SELECT i.source, i.agent_id, i.hostname, i.path, i.entry, i.fingerprint_sha256, i.subject, i.issuer, i.serial, i.not_before, i.not_after, i.detail,
                r.status AS r_status, r.reason AS r_reason, r.revoked_at AS r_revoked_at, r.source AS r_source, r.checked_at AS r_checked_at, r.detail AS r_detail
           ${from} ORDER BY i.not_after ASC, i.path ASC, i.entry ASC, i.location_id ASC, i.item_key ASC
          LIMIT ${bind(Math.min(filter.limit ?? 1000, MAX_LIMIT))} OFFSET ${bind(filter.offset ?? 0)}`,
        params,
      ),
    );
    return {
      total: Number(total),
      items: page.map((r) => {
        const notAfter = new Date(r.not_after);
        return {
          source: r.source,
          agentId: r.agent_id,
          hostname: r.hostname ?? '',
          path: r.path,
          entry: r.entry,
          fingerprintSha256: r.fingerprint_sha256 ?? '',
          subject: r.subject ?? '',
          issuer: r.issuer ?? '',
          serial: r.serial ?? '',
          notBefore: r.not_before ? new Date(r.not_before) : null,
          notAfter,
          daysLeft: daysLeft(notAfter, now),
          status: certificateStatus(notAfter, now, this.config.expiry),
          detail: r.detail,
          revocation: r.r_status
            ? { status: r.r_status, reason: r.r_reason, revokedAt: r.r_revoked_at ? new Date(r.r_revoked_at) : null, source: r.r_source!, checkedAt: new Date(r.r_checked_at!), detail: r.r_detail ?? '' }
            : null,
        };
      }),
    };
  }

  async findings(kind: InventoryItemKind, agent?: string): Promise<FindingView[]> {
    const q = this.ds
      .getRepository(InventoryItem)
      .createQueryBuilder('i')
      .innerJoin('i.agent', 'a')
      .addSelect(['a.hostname'])
      .where('i.kind = :kind', { kind });
    if (agent) q.andWhere(isUuid(agent) ? 'a.id = :agent' : 'a.hostname = :agent', { agent });
    const rows = await q.orderBy('i.path', 'ASC').take(MAX_LIMIT).getMany();
    return rows.map((r) => ({
      agentId: r.agentId,
      hostname: r.agent?.hostname ?? '',
      kind: r.kind,
      path: r.path,
      detail: r.detail,
      updatedAt: r.updatedAt,
    }));
  }
}

interface CertificateRow {
  source: InventorySource;
  agent_id: string | null;
  hostname: string | null;
  path: string;
  entry: string;
  fingerprint_sha256: string | null;
  subject: string | null;
  issuer: string | null;
  serial: string | null;
  not_before: Date | string | null;
  not_after: Date | string;
  detail: Record<string, unknown>;
  r_status: RevocationStatus | null;
  r_reason: string | null;
  r_revoked_at: Date | string | null;
  r_source: RevocationView['source'] | null;
  r_checked_at: Date | string | null;
  r_detail: string | null;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
