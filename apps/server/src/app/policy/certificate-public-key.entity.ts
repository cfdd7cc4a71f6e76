import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * SHA-256 of each inventory certificate's SubjectPublicKeyInfo (agents do not report it), derived
 * once from the DER: the fact the key-reuse rule needs.
 */
@Entity('certificate_public_keys')
@Index('idx_certificate_public_keys_key', ['publicKeySha256'])
export class CertificatePublicKey {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'fingerprint_sha256', primaryKeyConstraintName: 'PK_certificate_public_keys' })
  fingerprintSha256!: string;

  /** '' when the DER could not be read. */
  @Column({ type: 'varchar', length: 64, name: 'public_key_sha256' })
  publicKeySha256!: string;
}
