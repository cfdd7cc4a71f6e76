import { Inject, Injectable } from '@nestjs/common';
import { Brackets, DataSource } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import type { RevocationStatus } from '@certfleet/pki';
import { CertificateRevocationStatus } from './certificate-revocation-status.entity';
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
  agentId: string;
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
    const q = this.ds
      .getRepository(InventoryItem)
      .createQueryBuilder('i')
      .innerJoin('i.agent', 'a')
      .addSelect(['a.hostname'])
      .leftJoinAndMapOne('i.revocation', CertificateRevocationStatus, 'r', 'r.fingerprint_sha256 = i.fingerprint_sha256')
      .where("i.kind = 'certificate'");
    if (filter.agent) {
      const isUuid = /^[0-9a-f-]{36}$/i.test(filter.agent);
      q.andWhere(isUuid ? 'a.id = :agent' : 'a.hostname = :agent', { agent: filter.agent });
    }
    if (filter.issuer) q.andWhere('i.issuer ILIKE :issuer', { issuer: `%${escapeLike(filter.issuer)}%` });
    if (filter.expiringWithinDays !== undefined) {
      q.andWhere('i.not_after <= :until', { until: new Date(now.getTime() + filter.expiringWithinDays * 86_400_000) });
    }
    if (filter.status) {
      const { from, to } = notAfterRangeFor(filter.status, now, this.config.expiry);
      if (from) q.andWhere('i.not_after > :from', { from });
      if (to) q.andWhere('i.not_after <= :to', { to });
    }
    if (filter.revocation) q.andWhere('r.status = :revocation', { revocation: filter.revocation });
    q.orderBy('i.not_after', 'ASC').addOrderBy('i.path', 'ASC').addOrderBy('i.entry', 'ASC');
    q.take(Math.min(filter.limit ?? 1000, MAX_LIMIT)).skip(filter.offset ?? 0);
    const [rows, total] = await q.getManyAndCount();
    return {
      total,
      items: rows.map((r) => ({
        agentId: r.agentId,
        hostname: r.agent?.hostname ?? '',
        path: r.path,
        entry: r.entry,
        fingerprintSha256: r.fingerprintSha256 ?? '',
        subject: r.subject ?? '',
        issuer: r.issuer ?? '',
        serial: r.serial ?? '',
        notBefore: r.notBefore,
        notAfter: r.notAfter!,
        daysLeft: daysLeft(r.notAfter!, now),
        status: certificateStatus(r.notAfter!, now, this.config.expiry),
        detail: r.detail,
        revocation: revocationView((r as InventoryItem & { revocation?: CertificateRevocationStatus }).revocation),
      })),
    };
  }

  async findings(kind: InventoryItemKind, agent?: string): Promise<FindingView[]> {
    const q = this.ds
      .getRepository(InventoryItem)
      .createQueryBuilder('i')
      .innerJoin('i.agent', 'a')
      .addSelect(['a.hostname'])
      .where('i.kind = :kind', { kind });
    if (agent) q.andWhere(/^[0-9a-f-]{36}$/i.test(agent) ? 'a.id = :agent' : 'a.hostname = :agent', { agent });
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

function revocationView(row: CertificateRevocationStatus | undefined): RevocationView | null {
  if (!row) return null;
  const { status, reason, revokedAt, source, checkedAt, detail } = row;
  return { status, reason, revokedAt, source, checkedAt, detail };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
