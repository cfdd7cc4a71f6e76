import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isRevocationReason, REVOCATION_REASONS, type RevocationReason } from '@certfleet/pki';
import { isUuid } from '../../common/ids';
import { queryRows } from '../../database/query-rows';
import { AuditEntry, AuditService } from '../audit/audit.service';
import { CrlPublisher } from './crl-publisher.service';
import { OcspResponder } from './ocsp-responder.service';
import { RevocationEvents } from './revocation-events.service';

/** Reasons a person may give: removeFromCRL and certificateHold need un-revoking, which certfleet does not do. */
export const REVOKE_REASONS: readonly RevocationReason[] = REVOCATION_REASONS.filter((r) => r !== 'removeFromCRL' && r !== 'certificateHold');

export interface RevokedCertificateView {
  serial: string;
  issuingCaId: string;
  managedCertificateId: string | null;
  revokedAt: Date;
  reason: string;
  /** True when it was revoked before this request (the first revocation stands). */
  alreadyRevoked: boolean;
}

export interface RevocationOutcome {
  revoked: RevokedCertificateView[];
  /** The CRLs published afterwards (one per CA), or why one could not be (the scheduler retries). */
  crls: Array<{ issuingCaId: string; crlNumber?: string; entries?: number; error?: string }>;
  /** With replace: managed certificates that will get a new key and certificate now. */
  replacements: Array<{ managedCertificateId: string; name: string; agentId: string }>;
  /** With replace: hosts where the certificate was found but certfleet does not manage it there. */
  needsManualAction: Array<{ serial: string; agentId: string; hostname: string; path: string; entry: string }>;
}

/** Revokes certificates another kind of issuer made (ACME); null when `serial` is not one of them. */
export interface ExternalRevoker {
  revoke(serial: string, reason: RevocationReason, actor: string): Promise<RevokedCertificateView | null>;
}

interface IssuedRow {
  serial: string;
  issuing_ca_id: string;
  managed_certificate_id: string | null;
  revoked_at: Date | null;
  revocation_reason: string | null;
}

/** Hex serial as stored: lowercase, no separators, no sign byte (openssl prints "00..." for some). */
export function normalizeSerial(input: string): string | null {
  const hex = input.trim().toLowerCase().replace(/[:\s]/g, '');
  if (!/^[0-9a-f]{1,64}$/.test(hex)) return null;
  let out = hex.length % 2 ? `0${hex}` : hex;
  while (out.length > 2 && out.startsWith('00')) out = out.slice(2);
  return out;
}

/**
 * Revokes certificates the internal CAs issued: the record, the audit event, the CRL (published at
 * once) and the OCSP answer (cache dropped here and, through PostgreSQL notifications, on other
 * replicas), and with `replace` a replacement job for every managed certificate that holds it.
 */
@Injectable()
export class RevocationService {
  private readonly logger = new Logger('Revocation');
  private readonly externalRevokers: ExternalRevoker[] = [];

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CrlPublisher) private readonly crls: CrlPublisher,
    @Inject(OcspResponder) private readonly ocsp: OcspResponder,
    @Inject(RevocationEvents) private readonly events: RevocationEvents,
  ) {}

  /** `target`: a serial (hex, colons allowed) or a managed certificate's id (its current certificate). */
  async revoke(target: string, reason: unknown, actor: string, options: { replace?: boolean } = {}): Promise<RevocationOutcome> {
    const checkedReason = this.checkReason(reason);
    const serial = await this.resolve(target);
    for (const external of this.externalRevokers) {
      const view = await external.revoke(serial, checkedReason, actor);
      if (view) {
        const replacements = options.replace ? await this.ds.transaction((m) => this.requestReplacement(m, [serial], actor, `revoked (${view.reason})`)) : [];
        return { revoked: [view], crls: [], replacements, needsManualAction: [] };
      }
    }
    return this.revokeSerials([serial], checkedReason, actor, { ...options, context: { target } });
  }

  /** For issuers outside this module (ACME): `revoke` asks them first. */
  registerExternalRevoker(revoker: ExternalRevoker): void {
    this.externalRevokers.push(revoker);
  }

  /**
   * Revokes every serial given (all must be certfleet's), in one transaction per call, then
   * publishes each affected CA's CRL once.
   */
  async revokeSerials(serials: string[], reason: RevocationReason, actor: string, options: { replace?: boolean; context?: Record<string, string> } = {}): Promise<RevocationOutcome> {
    const unique = [...new Set(serials)];
    const { revoked, replacements, needsManualAction } = await this.ds.transaction(async (m) => {
      const rows = queryRows<IssuedRow>(
        await m.query(`SELECT "serial", "issuing_ca_id", "managed_certificate_id", "revoked_at", "revocation_reason" FROM "issued_certificates" WHERE "serial" = ANY($1::varchar[]) ORDER BY "serial"`, [unique]),
      );
      const missing = unique.filter((s) => !rows.some((r) => r.serial === s));
      if (missing.length) throw new NotFoundException(`no certificate with serial ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''} was issued by a certfleet CA: revoke it at the CA that issued it`);
      // The CRL row locks, in a fixed order, before drawing revocation_seq (see CrlPublisher.lockCrlRow).
      for (const caId of [...new Set(rows.map((r) => r.issuing_ca_id))].sort()) await this.crls.lockCrlRow(m, caId);
      const fresh = queryRows<{ serial: string; revoked_at: Date }>(
        await m.query(
          `UPDATE "issued_certificates" SET "revoked_at" = now(), "revocation_reason" = $2, "revocation_seq" = nextval('revocation_seq')
            WHERE "serial" = ANY($1::varchar[]) AND "revoked_at" IS NULL RETURNING "serial", "revoked_at"`,
          [unique, reason],
        ),
      );
      const freshAt = new Map(fresh.map((r) => [r.serial, new Date(r.revoked_at)]));
      // Installed copies are known revoked now (alerts, reports), not after the next revocation
      // check: the CA's own record is authoritative, and final like any revocation.
      await m.query(
        `INSERT INTO "certificate_revocation_status" ("fingerprint_sha256", "status", "reason", "revoked_at", "source", "url", "detail", "checked_at", "next_check_at")
         SELECT ic."fingerprint_sha256", 'revoked', ic."revocation_reason", ic."revoked_at", 'ca', NULL, 'revoked by its certfleet issuing CA (' || ic."revocation_reason" || ')', now(), now() + interval '1 day'
           FROM "issued_certificates" ic
          WHERE ic."serial" = ANY($1::varchar[]) AND ic."fingerprint_sha256" IS NOT NULL
            AND ic."fingerprint_sha256" IN (SELECT "fingerprint_sha256" FROM "inventory_items" WHERE "fingerprint_sha256" IS NOT NULL)
         ON CONFLICT ("fingerprint_sha256") DO UPDATE SET "status" = 'revoked', "reason" = EXCLUDED."reason", "revoked_at" = EXCLUDED."revoked_at", "source" = 'ca', "url" = NULL,
           "detail" = EXCLUDED."detail", "checked_at" = EXCLUDED."checked_at", "next_check_at" = EXCLUDED."next_check_at"`,
        [fresh.map((r) => r.serial)],
      );
      const views: RevokedCertificateView[] = rows.map((r) => ({
        serial: r.serial,
        issuingCaId: r.issuing_ca_id,
        managedCertificateId: r.managed_certificate_id,
        revokedAt: freshAt.get(r.serial) ?? new Date(r.revoked_at!),
        reason: freshAt.has(r.serial) ? reason : (r.revocation_reason ?? 'unspecified'),
        alreadyRevoked: !freshAt.has(r.serial),
      }));
      const audit = views
        .filter((v) => !v.alreadyRevoked)
        .map((v): AuditEntry => ({ actor, action: 'certificate.revoked', subjectType: 'certificate', subjectId: v.serial, detail: { issuingCaId: v.issuingCaId, managedCertificateId: v.managedCertificateId, reason: v.reason, replace: !!options.replace, ...(options.context ?? {}) } }));
      await this.audit.record(m, ...audit);
      await this.events.notifyRevoked(m, views.filter((v) => !v.alreadyRevoked).map((v) => ({ caId: v.issuingCaId, serial: v.serial })));
      const replacements = options.replace ? await this.requestReplacement(m, unique, actor, `revoked (${reason})`) : [];
      const needsManualAction = options.replace ? await this.unmanagedHolders(m, unique) : [];
      return { revoked: views, replacements, needsManualAction };
    });
    for (const v of revoked) this.ocsp.forget(v.issuingCaId, v.serial);
    const crls: RevocationOutcome['crls'] = [];
    for (const caId of new Set(revoked.filter((v) => !v.alreadyRevoked).map((v) => v.issuingCaId))) {
      try {
        const crl = await this.crls.publish(caId);
        crls.push({ issuingCaId: caId, crlNumber: crl.crlNumber, entries: crl.entries });
      } catch (err) {
        this.logger.error(`revocation recorded, but the CRL of issuing CA ${caId} could not be published now (retried on schedule): ${(err as Error).message}`);
        crls.push({ issuingCaId: caId, error: (err as Error).message });
      }
    }
    return { revoked, crls, replacements, needsManualAction };
  }

  /** Where the inventory found these certificates on a host that has no managed certificate holding them. */
  async unmanagedHolders(m: EntityManager, serials: string[]): Promise<RevocationOutcome['needsManualAction']> {
    const rows = queryRows<{ serial: string; agent_id: string; hostname: string; path: string; entry: string }>(
      await m.query(
        `SELECT ic."serial", i."agent_id", a."hostname", i."path", i."entry"
           FROM "issued_certificates" ic
           JOIN "inventory_items" i ON i."fingerprint_sha256" = ic."fingerprint_sha256"
           JOIN "agents" a ON a."id" = i."agent_id"
          WHERE ic."serial" = ANY($1::varchar[])
            AND NOT EXISTS (SELECT 1 FROM "managed_certificates" mc WHERE mc."agent_id" = i."agent_id" AND mc."current_serial" = ic."serial" AND mc."removed_at" IS NULL)
          ORDER BY a."hostname", i."path"`,
        [serials],
      ),
    );
    return rows.map((r) => ({ serial: r.serial, agentId: r.agent_id, hostname: r.hostname, path: r.path, entry: r.entry }));
  }

  /**
   * Marks every managed certificate whose current certificate is one of `serials` for replacement:
   * a new key and certificate, ahead of ordinary renewals. Jobs already running are left to finish;
   * their result does not settle the replacement (see JobsService.finishBatch).
   */
  async requestReplacement(m: EntityManager, serials: string[], actor: string, why: string): Promise<RevocationOutcome['replacements']> {
    const rows = queryRows<{ id: string; name: string; agent_id: string }>(
      await m.query(
        `UPDATE "managed_certificates" SET "replacement_requested_at" = now(), "next_renewal_at" = now(), "updated_at" = now()
          WHERE "current_serial" = ANY($1::varchar[]) AND "removed_at" IS NULL RETURNING "id", "name", "agent_id"`,
        [serials],
      ),
    );
    await this.audit.record(m, ...rows.map((r): AuditEntry => ({ actor, action: 'managed.replacement-requested', subjectType: 'managed-certificate', subjectId: r.id, detail: { why } })));
    return rows.map((r) => ({ managedCertificateId: r.id, name: r.name, agentId: r.agent_id }));
  }

  async list(filter: { issuingCaId?: string; limit?: number } = {}): Promise<RevokedCertificateView[]> {
    if (filter.issuingCaId && !isUuid(filter.issuingCaId)) throw new BadRequestException(`issuingCaId "${filter.issuingCaId}" is not an id`);
    const rows = queryRows<IssuedRow>(
      await this.ds.query(
        `SELECT "serial", "issuing_ca_id", "managed_certificate_id", "revoked_at", "revocation_reason" FROM "issued_certificates"
          WHERE "revocation_seq" IS NOT NULL AND ($1::uuid IS NULL OR "issuing_ca_id" = $1) ORDER BY "revocation_seq" DESC LIMIT $2`,
        [filter.issuingCaId ?? null, Math.min(Math.max(filter.limit ?? 1000, 1), 100_000)],
      ),
    );
    return rows.map((r) => ({ serial: r.serial, issuingCaId: r.issuing_ca_id, managedCertificateId: r.managed_certificate_id, revokedAt: new Date(r.revoked_at!), reason: r.revocation_reason ?? 'unspecified', alreadyRevoked: true }));
  }

  private checkReason(reason: unknown): RevocationReason {
    const value = reason ?? 'unspecified';
    if (!isRevocationReason(value) || !REVOKE_REASONS.includes(value)) {
      throw new BadRequestException(`reason must be one of ${REVOKE_REASONS.join(', ')}; got "${String(value).slice(0, 40)}"`);
    }
    return value;
  }

  private async resolve(target: string): Promise<string> {
    if (typeof target !== 'string' || target.trim() === '') throw new BadRequestException('say what to revoke: a certificate serial or a managed certificate id');
    if (isUuid(target.trim())) {
      const [row] = queryRows<{ name: string; current_serial: string | null; issuer_kind: string }>(
        await this.ds.query(`SELECT "name", "current_serial", "issuer_kind" FROM "managed_certificates" WHERE "id" = $1`, [target.trim()]),
      );
      if (!row) throw new NotFoundException(`no managed certificate ${target}`);
      if (!row.current_serial) throw new BadRequestException(`managed certificate "${row.name}" has no certificate yet: nothing to revoke`);
      return row.current_serial;
    }
    const serial = normalizeSerial(target);
    if (!serial) throw new BadRequestException(`"${target.slice(0, 80)}" is neither a hex serial number nor a managed certificate id`);
    return serial;
  }
}
