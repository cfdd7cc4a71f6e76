import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { CampaignSelector } from './campaign-selector';

/**
 * waiting-for-ca: the replacement issuing CA waits for the offline root's signature.
 * running: revoked, replacing. completed: every managed item validated (manual ones listed).
 * cancelled: stopped by a person; what was done stays done.
 */
export type CampaignStatus = 'waiting-for-ca' | 'running' | 'completed' | 'cancelled';

/** An emergency replacement across the fleet, with its selector and outcome (see BreakglassService). */
@Entity('breakglass_campaigns')
export class BreakglassCampaign {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'jsonb' })
  selector!: CampaignSelector;

  @Column({ type: 'varchar', length: 32 })
  reason!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: CampaignStatus;

  /** Replacement jobs open at once, at most. */
  @Column({ type: 'integer' })
  concurrency!: number;

  @Column({ type: 'uuid', name: 'compromised_ca_id', nullable: true })
  compromisedCaId!: string | null;

  @Column({ type: 'uuid', name: 'replacement_ca_id', nullable: true })
  replacementCaId!: string | null;

  /** Certificates revoked when the campaign started its replacements. */
  @Column({ type: 'integer', name: 'revoked_count', default: 0 })
  revokedCount!: number;

  @Column({ type: 'varchar', length: 200, name: 'created_by' })
  createdBy!: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true })
  completedAt!: Date | null;
}
