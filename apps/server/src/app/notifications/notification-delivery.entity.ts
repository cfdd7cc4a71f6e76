import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Alert } from '../alerts/alert.entity';
import { NotificationChannel } from './notification-channel.entity';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * One notification to one channel, recorded before it is sent and retried with backoff until
 * delivered or out of attempts. Unique per (alert, channel, event, episode, stage): created once.
 */
@Entity('notification_deliveries')
@Unique('UQ_notification_deliveries_once', ['alertId', 'channelId', 'event', 'episode', 'stage'])
@Index('idx_notification_deliveries_due', ['status', 'nextAttemptAt'])
export class NotificationDelivery {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_notification_deliveries' })
  id!: string;

  @Column({ type: 'uuid', name: 'alert_id' })
  alertId!: string;

  @ManyToOne(() => Alert, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'alert_id', foreignKeyConstraintName: 'FK_notification_deliveries_alert' })
  alert?: Alert;

  @Column({ type: 'uuid', name: 'channel_id' })
  channelId!: string;

  @ManyToOne(() => NotificationChannel, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'channel_id', foreignKeyConstraintName: 'FK_notification_deliveries_channel' })
  channel?: NotificationChannel;

  /** raised (a stage was reached) or resolved. */
  @Column({ type: 'varchar', length: 16 })
  event!: 'raised' | 'resolved';

  @Column({ type: 'int' })
  episode!: number;

  @Column({ type: 'int' })
  stage!: number;

  /** The notification as sent (snapshot of the alert at the time). */
  @Column({ type: 'jsonb' })
  message!: Record<string, unknown>;

  /** E-mail addresses for smtp channels; empty for the others. */
  @Column({ type: 'jsonb', default: [] })
  recipients!: string[];

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'timestamptz', name: 'next_attempt_at' })
  nextAttemptAt!: Date;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column({ type: 'timestamptz', name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
