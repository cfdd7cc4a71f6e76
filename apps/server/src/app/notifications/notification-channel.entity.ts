import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

export const CHANNEL_TYPES = ['webhook', 'slack', 'smtp', 'command'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
/** all: every alert. escalation: critical stages only. owner: only alerts whose owner names it (or mails, for smtp). */
export const CHANNEL_ROLES = ['all', 'escalation', 'owner'] as const;
export type ChannelRole = (typeof CHANNEL_ROLES)[number];

/** Where notifications go. The secret (HMAC key, webhook URL token, SMTP password) is encrypted at rest. */
@Entity('notification_channels')
@Unique('UQ_notification_channels_name', ['name'])
export class NotificationChannel {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_notification_channels' })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: ChannelType;

  @Column({ type: 'varchar', length: 16 })
  role!: ChannelRole;

  /** Non-secret settings (URL, host, port, recipients, command, timeout...). */
  @Column({ type: 'jsonb', default: {} })
  settings!: Record<string, unknown>;

  @Column({ type: 'text', name: 'encrypted_secret', nullable: true })
  encryptedSecret!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
