import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import type { AcmeAnswer } from './acme-accounts.service';
import { AcmeOrder, type AcmeIdentifier } from './acme-order.entity';
import { AcmeProblem } from './acme-problem';
import type { AcmeDirectory } from './acme-request';
import { certIdOf, parseCertId, RENEWAL_INFO_RETRY_AFTER_S, suggestedWindow } from './renewal-info';

/** RFC 9773: the renewalInfo resource, and the check of newOrder's "replaces". */
@Injectable()
export class AcmeRenewalInfoService {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** GET <base>/renewal-info/<certID>: any certificate this CA issued (ACME or not). */
  async renewalInfo(dir: AcmeDirectory, raw: string, now = new Date()): Promise<AcmeAnswer> {
    const cert = await this.find(dir, raw);
    const window = suggestedWindow(cert.notBefore, cert.notAfter, cert.revokedAt, now);
    return {
      status: 200,
      body: { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } },
      headers: { 'Retry-After': String(RENEWAL_INFO_RETRY_AFTER_S) },
    };
  }

  /**
   * RFC 9773 section 5: the replaced certificate must be one this account ordered here and share an
   * identifier with the new order. Returns the certID to reflect in the order.
   */
  async checkReplaces(dir: AcmeDirectory, accountId: string, raw: unknown, identifiers: AcmeIdentifier[]): Promise<{ certId: string; serial: string } | undefined> {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string' || raw.length > 200) throw new AcmeProblem('malformed', '"replaces" must be a CertID string');
    const cert = await this.find(dir, raw).catch((err: unknown) => {
      throw err instanceof AcmeProblem && err.status === 404 ? new AcmeProblem('malformed', '"replaces" names no certificate of this CA') : err;
    });
    const order = await this.ds.getRepository(AcmeOrder).findOne({ where: { certificateSerial: cert.serial, issuingCaId: In(dir.caIds) } });
    if (!order || order.accountId !== accountId) throw new AcmeProblem('unauthorized', '"replaces" names a certificate this account did not order');
    const wanted = new Set(identifiers.map((i) => `${i.type}:${i.value}`));
    if (!order.identifiers.some((i) => wanted.has(`${i.type}:${i.value}`))) throw new AcmeProblem('malformed', '"replaces" names a certificate that shares no identifier with this order');
    // Another order, not invalid (nor a pending one that expired), already replaces it.
    const taken = await this.ds.query(`SELECT "id" FROM "acme_orders" WHERE "replaces_serial" = $1 AND ("status" = 'valid' OR ("status" <> 'invalid' AND "expires" > now())) LIMIT 1`, [cert.serial]);
    if (taken.length) throw new AcmeProblem('alreadyReplaced', `certificate ${cert.serial} is already replaced by order ${dir.order(taken[0].id)}`);
    return { certId: raw, serial: cert.serial };
  }

  private async find(dir: AcmeDirectory, raw: string): Promise<IssuedCertificate> {
    const id = parseCertId(raw);
    const cert = await this.ds.getRepository(IssuedCertificate).findOne({ where: { serial: id.serialHex, issuingCaId: In(dir.caIds) } });
    // The key identifier must match too: the same serial under another key is another certificate.
    if (!cert || certIdOf(cert.certificatePem)?.split('.')[0] !== id.keyIdentifier.toString('base64url')) throw new AcmeProblem('malformed', 'no certificate with this CertID here', 404);
    return cert;
  }
}
