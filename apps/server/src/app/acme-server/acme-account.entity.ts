import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Jwk } from './jws';

export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';

/** An ACME account of one issuing CA's directory, known by its key (one account per key and CA). */
@Entity('acme_accounts')
@Index('idx_acme_accounts_key', ['issuingCaId', 'keyThumbprint'], { unique: true })
export class AcmeAccount {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid', name: 'issuing_ca_id' })
  issuingCaId!: string;

  /** RFC 7638 SHA-256 thumbprint of the current key. */
  @Column({ type: 'varchar', length: 64, name: 'key_thumbprint' })
  keyThumbprint!: string;

  /** The public JWK (public members only). */
  @Column({ type: 'jsonb' })
  jwk!: Jwk;

  @Column({ type: 'varchar', length: 16 })
  status!: AcmeAccountStatus;

  @Column({ type: 'jsonb', default: () => `'[]'` })
  contact!: string[];

  /** The external account binding key this account was created with. */
  @Column({ type: 'uuid', name: 'eab_key_id', nullable: true })
  eabKeyId!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
