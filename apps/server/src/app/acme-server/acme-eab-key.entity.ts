import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An external account binding key (RFC 8555 7.3.4): made by an admin, used once by a new account. */
@Entity('acme_eab_keys')
export class AcmeEabKey {
  /** The key id (kid) given to the ACME client. */
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The CA whose directory accepts it; null: any. */
  @Column({ type: 'uuid', name: 'issuing_ca_id', nullable: true })
  issuingCaId!: string | null;

  /** The HMAC key, AES-256-GCM sealed with the CA key-encryption key (it must be usable to verify). */
  @Column({ type: 'text', name: 'encrypted_hmac_key' })
  encryptedHmacKey!: string;

  @Column({ type: 'varchar', length: 200, default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 200, name: 'created_by' })
  createdBy!: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'uuid', name: 'account_id', nullable: true })
  accountId!: string | null;
}
