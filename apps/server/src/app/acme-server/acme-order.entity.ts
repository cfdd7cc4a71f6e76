import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { ProblemDocument } from './acme-problem';

export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export interface AcmeIdentifier {
  type: 'dns' | 'ip';
  value: string;
}

/** An ACME order; once valid it names the certificate (issued_certificates.serial) it produced. */
@Entity('acme_orders')
@Index('idx_acme_orders_account', ['accountId'])
export class AcmeOrder {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid', name: 'account_id' })
  accountId!: string;

  @Column({ type: 'uuid', name: 'issuing_ca_id' })
  issuingCaId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: AcmeOrderStatus;

  @Column({ type: 'jsonb' })
  identifiers!: AcmeIdentifier[];

  @Column({ type: 'timestamptz' })
  expires!: Date;

  @Column({ type: 'jsonb', nullable: true })
  error!: ProblemDocument | null;

  /** Set when valid: the certificate issued for this order. */
  @Index('idx_acme_orders_serial', { unique: true, where: `"certificate_serial" IS NOT NULL` })
  @Column({ type: 'varchar', length: 64, name: 'certificate_serial', nullable: true })
  certificateSerial!: string | null;

  /** The certificate this order renews (RFC 9773 "replaces", as issued_certificates.serial), if it named one. */
  @Index('idx_acme_orders_replaces', { where: `"replaces_serial" IS NOT NULL` })
  @Column({ type: 'varchar', length: 64, name: 'replaces_serial', nullable: true })
  replacesSerial!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
