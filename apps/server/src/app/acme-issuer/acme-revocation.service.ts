import { BadGatewayException, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { RevocationReason } from '@certfleet/pki';
import { DataSource, IsNull } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { RevocationService, type RevokedCertificateView } from '../revocation/revocation.service';
import { AcmeCertificate } from './acme-certificate.entity';
import { AcmeOrderError, withAcmeScope } from './acme-http';
import { AcmeIssuer } from './acme-issuer.entity';
import { AcmeIssuersService } from './acme-issuers.service';

/** RFC 5280 section 5.3.1 CRLReason codes, as RFC 8555 section 7.6 sends them. */
const REASON_CODES: Record<string, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** `certfleet revoke` of a certificate an ACME CA issued: revokeCert at that CA, with the account that ordered it. */
@Injectable()
export class AcmeRevocationService implements OnModuleInit {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(AcmeIssuersService) private readonly issuers: AcmeIssuersService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(RevocationService) private readonly revocation: RevocationService,
  ) {}

  onModuleInit(): void {
    this.revocation.registerExternalRevoker({ revoke: (serial, reason, actor) => this.revoke(serial, reason, actor) });
  }

  async revoke(serial: string, reason: RevocationReason, actor: string): Promise<RevokedCertificateView | null> {
    const cert = await this.ds.getRepository(AcmeCertificate).findOne({ where: { serial } });
    if (!cert) return null;
    const view = (revokedAt: Date, why: string, already: boolean): RevokedCertificateView => ({ serial, issuingCaId: cert.acmeIssuerId, managedCertificateId: cert.managedCertificateId, revokedAt, reason: why, alreadyRevoked: already });
    if (cert.revokedAt) return view(cert.revokedAt, cert.revocationReason ?? 'unspecified', true);
    const issuer = await this.ds.getRepository(AcmeIssuer).findOneOrFail({ where: { id: cert.acmeIssuerId } });
    await withAcmeScope(issuer.directoryTrustPem, async (scope) => {
      try {
        const client = await this.issuers.client(issuer);
        await client.revokeCertificate(cert.certificatePem, { reason: REASON_CODES[reason] ?? 0 });
      } catch (err) {
        const failure = new AcmeOrderError((err as Error).message, scope.lastProblem());
        // Already revoked at the CA (e.g. by another client): record it here too.
        if (failure.problem?.type !== 'urn:ietf:params:acme:error:alreadyRevoked') throw new BadGatewayException(`ACME issuer "${issuer.name}" did not revoke ${serial}: ${failure.message}`);
      }
    });
    const revokedAt = new Date();
    await this.ds.transaction(async (m) => {
      await m.getRepository(AcmeCertificate).update({ serial, revokedAt: IsNull() }, { revokedAt, revocationReason: reason });
      await this.audit.record(m, { actor, action: 'certificate.revoked', subjectType: 'certificate', subjectId: serial, detail: { acmeIssuerId: issuer.id, managedCertificateId: cert.managedCertificateId, reason } });
    });
    return view(revokedAt, reason, false);
  }
}
