import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every certificate an ACME CA issued for a managed certificate: for renewal, ARI and revocation. */
@Entity('acme_certificates')
@Index('idx_acme_certificates_managed', ['managedCertificateId', 'issuedAt'])
export class AcmeCertificate {
  /** Lowercase hex, as OpenSSL prints it without colons. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  serial!: string;

  @Column({ type: 'uuid', name: 'acme_issuer_id' })
  acmeIssuerId!: string;

  @Column({ type: 'uuid', name: 'managed_certificate_id' })
  managedCertificateId!: string;

  @Column({ type: 'uuid', name: 'job_id', unique: true })
  jobId!: string;

  @Column({ type: 'varchar', length: 64, name: 'public_key_sha256' })
  publicKeySha256!: string;

  @Column({ type: 'varchar', length: 64, name: 'fingerprint_sha256' })
  fingerprintSha256!: string;

  @Column({ type: 'text', name: 'certificate_pem' })
  certificatePem!: string;

  /** Intermediates as the CA sent them (nearest first), without the root. */
  @Column({ type: 'text', name: 'chain_pem' })
  chainPem!: string;

  @Column({ type: 'text', name: 'root_pem' })
  rootPem!: string;

  @Column({ type: 'text', name: 'order_url', nullable: true })
  orderUrl!: string | null;

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
}
