import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Every certificate an internal issuing CA signed: the CA's own record (for revocation, CRLs and
 * audits). At most one per job, enforced by the unique job id.
 */
@Entity('issued_certificates')
@Index('idx_issued_certificates_managed', ['managedCertificateId'])
// What a CRL refresh reads: only the revocations after the ones it already holds.
@Index('idx_issued_certificates_revocations', ['issuingCaId', 'revocationSeq'], { where: `"revocation_seq" IS NOT NULL` })
export class IssuedCertificate {
  /** Lowercase hex, as OpenSSL prints it without colons. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  serial!: string;

  @Column({ type: 'uuid', name: 'issuing_ca_id' })
  issuingCaId!: string;

  @Column({ type: 'uuid', name: 'managed_certificate_id', nullable: true })
  managedCertificateId!: string | null;

  @Column({ type: 'uuid', name: 'job_id', nullable: true, unique: true })
  jobId!: string | null;

  /** SHA-256 of the certified public key (SPKI DER), to recognise a repeated CSR for the same key. */
  @Column({ type: 'varchar', length: 64, name: 'public_key_sha256' })
  publicKeySha256!: string;

  @Column({ type: 'varchar', length: 64, name: 'fingerprint_sha256' })
  fingerprintSha256!: string;

  @Column({ type: 'text', name: 'certificate_pem' })
  certificatePem!: string;

  @Column({ type: 'timestamptz', name: 'not_before' })
  notBefore!: Date;

  @Column({ type: 'timestamptz', name: 'not_after' })
  notAfter!: Date;

  @Column({ type: 'timestamptz', name: 'issued_at' })
  issuedAt!: Date;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 32, name: 'revocation_reason', nullable: true })
  revocationReason!: string | null;

  /** Order of revocation (from the revocation_seq sequence), as a decimal string; null while valid. */
  @Column({ type: 'bigint', name: 'revocation_seq', nullable: true })
  revocationSeq?: string | null;
}
