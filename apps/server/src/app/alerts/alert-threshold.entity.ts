import { CreateDateColumn, Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * Expiry thresholds (days before notAfter, e.g. [30, 14, 7]) for the certificates carrying a tag, or
 * for one managed certificate (its profile). The smallest threshold is the critical stage; expiry
 * itself is always the last stage.
 */
@Entity('alert_thresholds')
@Unique('UQ_alert_thresholds_scope', ['scope', 'scopeValue'])
export class AlertThreshold {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_alert_thresholds' })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  scope!: 'tag' | 'managed';

  /** The tag, or the managed certificate id. */
  @Column({ type: 'varchar', length: 200, name: 'scope_value' })
  scopeValue!: string;

  @Column({ type: 'jsonb' })
  days!: number[];

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
