import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { RevocationStatus } from '@certfleet/pki';

/**
 * The last revocation check of one certificate, keyed by its fingerprint: a certificate installed
 * on many hosts is checked once. Rows whose certificate left the inventory are pruned by the pass.
 */
@Entity('certificate_revocation_status')
@Index('idx_certificate_revocation_status_next_check', ['nextCheckAt'])
export class CertificateRevocationStatus {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'fingerprint_sha256' })
  fingerprintSha256!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: RevocationStatus;

  /** RFC 5280 CRLReason name when revoked and given. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  reason!: string | null;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  /**
   * 'ocsp' | 'crl' | 'none' (nothing asked: no issuer, self-signed, expired, no URLs) | 'ca' (a
   * certfleet CA revoked it and recorded it at once; like any revocation, final).
   */
  @Column({ type: 'varchar', length: 8 })
  source!: 'ocsp' | 'crl' | 'none' | 'ca';

  /** The responder or CRL URL that answered (or was tried last). */
  @Column({ type: 'text', nullable: true })
  url!: string | null;

  /** One line a person can act on: what was asked and what it said, or why nothing was asked. */
  @Column({ type: 'text' })
  detail!: string;

  @Column({ type: 'timestamptz', name: 'checked_at' })
  checkedAt!: Date;

  /** When the background pass looks again: the answer's nextUpdate, else checked_at + the interval. */
  @Column({ type: 'timestamptz', name: 'next_check_at' })
  nextCheckAt!: Date;
}
