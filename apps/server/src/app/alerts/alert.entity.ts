import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

export const ALERT_KINDS = ['expiry', 'agent-offline', 'renewal-failing', 'policy-violation', 'revoked-installed', 'chain-invalid'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertState = 'open' | 'acknowledged' | 'silenced' | 'resolved';
export type AlertSeverity = 'warning' | 'critical';

/**
 * One alert per (kind, subject), reused when the condition comes back: `episode` counts the
 * openings, `stage` how far it has gone (expiry: thresholds crossed, expired last), and
 * `notifiedStage` the highest stage already sent in this episode, so a stage is sent once.
 */
@Entity('alerts')
@Unique('UQ_alerts_kind_subject', ['kind', 'subjectKey'])
@Index('idx_alerts_state', ['state'])
export class Alert {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_alerts' })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: AlertKind;

  /** `fp:<sha256>`, `managed:<id>`, `agent:<id>`, `policy:<certificate key>:<rule>`. */
  @Column({ type: 'varchar', length: 300, name: 'subject_key' })
  subjectKey!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: AlertState;

  @Column({ type: 'int', default: 0 })
  stage!: number;

  /** e.g. "30d", "7d", "expired", "open". */
  @Column({ type: 'varchar', length: 16, name: 'stage_label' })
  stageLabel!: string;

  @Column({ type: 'varchar', length: 16 })
  severity!: AlertSeverity;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'jsonb', default: {} })
  detail!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 200, name: 'owner_team', nullable: true })
  ownerTeam!: string | null;

  @Column({ type: 'jsonb', name: 'owner_emails', default: [] })
  ownerEmails!: string[];

  @Column({ type: 'jsonb', name: 'owner_channels', default: [] })
  ownerChannels!: string[];

  @Column({ type: 'jsonb', default: [] })
  tags!: string[];

  @Column({ type: 'int', default: 1 })
  episode!: number;

  @Column({ type: 'int', name: 'notified_stage', default: 0 })
  notifiedStage!: number;

  @Column({ type: 'timestamptz', name: 'silenced_until', nullable: true })
  silencedUntil!: Date | null;

  @Column({ type: 'varchar', length: 200, name: 'acknowledged_by', nullable: true })
  acknowledgedBy!: string | null;

  @Column({ type: 'timestamptz', name: 'acknowledged_at', nullable: true })
  acknowledgedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'opened_at' })
  openedAt!: Date;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', name: 'resolved_at', nullable: true })
  resolvedAt!: Date | null;
}
