import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * pending: the server made the key and CSR, the offline root has not signed yet.
 * active: signs managed certificates. retired: kept for the record and its CRLs, signs nothing.
 * revoked: distrusted (compromised) by a break-glass campaign; still publishes its CRL, signs nothing.
 */
export type IssuingCaStatus = 'pending' | 'active' | 'retired' | 'revoked';

/** An internal issuing CA. Its key is generated here and stored encrypted; it never leaves. */
@Entity('issuing_cas')
export class IssuingCa {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200, unique: true })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: IssuingCaStatus;

  @Column({ type: 'text', name: 'csr_pem' })
  csrPem!: string;

  @Column({ type: 'text', name: 'certificate_pem', nullable: true })
  certificatePem!: string | null;

  /** CA certificates between this CA and the root (nearest first), PEM; '' when the root signed it. */
  @Column({ type: 'text', name: 'chain_pem', default: '' })
  chainPem!: string;

  @Column({ type: 'text', name: 'root_pem', nullable: true })
  rootPem!: string | null;

  /** AES-256-GCM envelope, same key as the fleet CA's. */
  @Column({ type: 'text', name: 'encrypted_private_key' })
  encryptedPrivateKey!: string;

  @Column({ type: 'varchar', length: 64, name: 'fingerprint_sha256', nullable: true })
  fingerprintSha256!: string | null;

  @Column({ type: 'timestamptz', name: 'not_after', nullable: true })
  notAfter!: Date | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'activated_at', nullable: true })
  activatedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt?: Date | null;

  @Column({ type: 'varchar', length: 32, name: 'revocation_reason', nullable: true })
  revocationReason?: string | null;

  /** The CA that took over from this one (break-glass replacement): its ACME directory now issues from it. */
  @Column({ type: 'uuid', name: 'superseded_by_id', nullable: true })
  supersededById?: string | null;
}
