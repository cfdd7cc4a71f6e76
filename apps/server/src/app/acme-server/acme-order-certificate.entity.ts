import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A certificate the ACME server issued, described as discovery describes a certificate on a host,
 * so that it is in the inventory (the certificate_inventory view) although no agent reported it.
 * It leaves the inventory when a newer order replaces it, when it is revoked, or a while after it
 * expired; and while a host reports the same certificate, the host's row stands for it.
 */
@Entity('acme_order_certificates')
@Index('idx_acme_order_certificates_fingerprint', ['fingerprintSha256'])
@Index('idx_acme_order_certificates_not_after', ['notAfter'])
@Index('idx_acme_order_certificates_names', ['accountId', 'namesKey'])
export class AcmeOrderCertificate {
  /** The order that produced it (one certificate per order). */
  @PrimaryColumn('uuid', { name: 'order_id' })
  orderId!: string;

  @Column({ type: 'uuid', name: 'account_id' })
  accountId!: string;

  @Column({ type: 'uuid', name: 'issuing_ca_id' })
  issuingCaId!: string;

  /** issued_certificates.serial */
  @Index('idx_acme_order_certificates_serial', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  serial!: string;

  /** The order's identifiers, sorted and joined: a later order with the same key renews this one. */
  @Column({ type: 'text', name: 'names_key' })
  namesKey!: string;

  @Column({ type: 'varchar', length: 64, name: 'fingerprint_sha256' })
  fingerprintSha256!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  issuer!: string;

  @Column({ type: 'timestamptz', name: 'not_before' })
  notBefore!: Date;

  @Column({ type: 'timestamptz', name: 'not_after' })
  notAfter!: Date;

  /** The same fields an agent reports for a certificate (inventory_items.detail), plus the ACME account and order. */
  @Column({ type: 'jsonb' })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON
  detail!: Record<string, any>;

  @Column({ type: 'bytea' })
  der!: Buffer;

  @Column({ type: 'timestamptz', name: 'issued_at' })
  issuedAt!: Date;

  /** When a newer order (ARI "replaces", or the same account and names) replaced it. */
  @Column({ type: 'timestamptz', name: 'replaced_at', nullable: true })
  replacedAt!: Date | null;

  @Column({ type: 'varchar', length: 64, name: 'replaced_by_serial', nullable: true })
  replacedBySerial!: string | null;
}
