import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An ACME CA (Let's Encrypt or a private ACME server) that managed certificates can be issued from.
 * The account key and the EAB HMAC key are sealed with the same AES-256-GCM envelope as CA keys.
 */
@Entity('acme_issuers')
export class AcmeIssuer {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100, unique: true })
  name!: string;

  @Column({ type: 'text', name: 'directory_url' })
  directoryUrl!: string;

  @Column({ type: 'varchar', length: 320, name: 'contact_email', nullable: true })
  contactEmail!: string | null;

  @Column({ type: 'varchar', length: 200, name: 'eab_kid', nullable: true })
  eabKid!: string | null;

  @Column({ type: 'text', name: 'encrypted_eab_hmac_key', nullable: true })
  encryptedEabHmacKey!: string | null;

  /** CA certificate(s) to trust for the directory's HTTPS (private ACME servers); null: the system's. */
  @Column({ type: 'text', name: 'directory_trust_pem', nullable: true })
  directoryTrustPem!: string | null;

  /** The root the CA's chains end at, sent to agents for validation; null: the chain's last certificate if self-signed. */
  @Column({ type: 'text', name: 'root_pem', nullable: true })
  rootPem!: string | null;

  @Column({ type: 'boolean', name: 'ari_enabled', default: true })
  ariEnabled!: boolean;

  @Column({ type: 'int', name: 'max_issuances_per_day', default: 3 })
  maxIssuancesPerDay!: number;

  @Column({ type: 'text', name: 'encrypted_account_key' })
  encryptedAccountKey!: string;

  /** Set once the account is registered with the CA (first order). */
  @Column({ type: 'text', name: 'account_url', nullable: true })
  accountUrl!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'removed_at', nullable: true })
  removedAt!: Date | null;
}
