import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * pending: waits for a replacement slot. replacing: replacement requested (the job runs, and is
 * retried with backoff while it fails or the host is offline). validated: the host installed and
 * validated a new certificate. manual: found on a host where certfleet does not manage it.
 * cancelled: its managed certificate was removed.
 */
export type ItemState = 'pending' | 'replacing' | 'validated' | 'manual' | 'cancelled';

/** One certificate on one host in a campaign. */
@Entity('breakglass_items')
@Index('idx_breakglass_items_state', ['campaignId', 'state'])
export class BreakglassItem {
  @PrimaryColumn({ type: 'uuid', name: 'campaign_id' })
  campaignId!: string;

  @PrimaryColumn({ type: 'integer' })
  seq!: number;

  @Column({ type: 'varchar', length: 16 })
  state!: ItemState;

  @Column({ type: 'uuid', name: 'agent_id' })
  agentId!: string;

  @Column({ type: 'varchar', length: 255 })
  hostname!: string;

  @Column({ type: 'uuid', name: 'managed_certificate_id', nullable: true })
  managedCertificateId!: string | null;

  /** Where it was found (manual items) or the managed certificate's name. */
  @Column({ type: 'varchar', length: 4096 })
  location!: string;

  @Column({ type: 'varchar', length: 64, name: 'old_serial', nullable: true })
  oldSerial!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'new_serial', nullable: true })
  newSerial!: string | null;

  /** The last failure of its replacement (it is retried), for the report. */
  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column({ type: 'timestamptz', name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true })
  finishedAt!: Date | null;
}
