import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One enrolled host. Its id is the identity carried by its mTLS client certificate. */
@Entity('agents')
export class Agent {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  hostname!: string;

  @Column({ type: 'jsonb', name: 'host_facts', default: {} })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON
  hostFacts!: Record<string, any>;

  @Column({ type: 'timestamptz', name: 'enrolled_at' })
  enrolledAt!: Date;

  @Column({ type: 'timestamptz', name: 'last_seen_at', nullable: true })
  lastSeenAt!: Date | null;

  /** Serial (hex) of the client certificate the agent must present. */
  @Column({ type: 'varchar', length: 64, name: 'certificate_serial' })
  certificateSerial!: string;

  /** The certificate the agent renewed from, accepted until the agent connects with the new one. */
  @Column({ type: 'varchar', length: 64, name: 'previous_certificate_serial', nullable: true })
  previousCertificateSerial!: string | null;

  @Column({ type: 'timestamptz', name: 'certificate_not_after' })
  certificateNotAfter!: Date;

  /** Highest inventory report sequence applied; reports at or below it are acknowledged, not applied. */
  @Column({ type: 'bigint', name: 'applied_sequence', default: 0 })
  appliedSequence!: string;

  /** Sequence of the report that opened the full sync in progress, if any. */
  @Column({ type: 'bigint', name: 'full_sync_sequence', nullable: true })
  fullSyncSequence!: string | null;

  /** True until the agent completes its first full sync (or after the server lost track). */
  @Column({ type: 'boolean', name: 'full_sync_required', default: true })
  fullSyncRequired!: boolean;

  @Column({ type: 'timestamptz', name: 'last_scan_at', nullable: true })
  lastScanAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'disabled_at', nullable: true })
  disabledAt!: Date | null;

  /** Labels an administrator set (e.g. env=prod), matched by ownership rules. */
  @Column({ type: 'jsonb', default: {} })
  labels!: Record<string, string>;
}
