import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An owner assigned by hand to one certificate. The key is `fp:<sha256>` for a discovered
 * certificate (every copy of it, on every host) or `managed:<id>` for a managed certificate, so the
 * assignment survives the managed certificate's renewals. A hand assignment wins over rules.
 */
@Entity('certificate_owners')
export class CertificateOwner {
  @PrimaryColumn({ type: 'varchar', length: 100, name: 'subject_key', primaryKeyConstraintName: 'PK_certificate_owners' })
  subjectKey!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  team!: string | null;

  @Column({ type: 'jsonb', default: [] })
  emails!: string[];

  /** Names of notification channels that also get this certificate's alerts. */
  @Column({ type: 'jsonb', default: [] })
  channels!: string[];

  @Column({ type: 'jsonb', default: [] })
  tags!: string[];

  @Column({ type: 'varchar', length: 200, name: 'updated_by' })
  updatedBy!: string;

  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' })
  updatedAt!: Date;
}
