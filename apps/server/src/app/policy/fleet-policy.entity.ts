import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { FleetPolicy } from '@certfleet/policy';

/**
 * A stored fleet policy (libs/policy rules as JSON). At most one is active; with none active the
 * built-in "baseline" applies.
 */
@Entity('fleet_policies')
export class FleetPolicyRecord {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_fleet_policies' })
  name!: string;

  @Column({ type: 'jsonb' })
  document!: FleetPolicy;

  @Column({ type: 'boolean', default: false })
  active!: boolean;

  @Column({ type: 'varchar', length: 200, name: 'updated_by' })
  updatedBy!: string;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
