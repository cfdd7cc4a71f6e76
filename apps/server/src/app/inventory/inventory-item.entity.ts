import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Agent } from '../agents/agent.entity';

export type InventoryItemKind = 'certificate' | 'private_key' | 'problem';

/** One thing an agent's discovery found, keyed by (agent, key) so re-applying a report is harmless. */
@Entity('inventory_items')
@Index('idx_inventory_items_fingerprint', ['fingerprintSha256'])
@Index('idx_inventory_items_not_after', ['notAfter'])
export class InventoryItem {
  @PrimaryColumn('uuid', { name: 'agent_id' })
  agentId!: string;

  @ManyToOne(() => Agent, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'agent_id' })
  agent?: Agent;

  @PrimaryColumn({ type: 'varchar', length: 2048, name: 'item_key' })
  itemKey!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: InventoryItemKind;

  @Column({ type: 'varchar', length: 4096 })
  path!: string;

  @Column({ type: 'varchar', length: 512, default: '' })
  entry!: string;

  @Column({ type: 'varchar', length: 64, name: 'fingerprint_sha256', nullable: true })
  fingerprintSha256!: string | null;

  @Column({ type: 'text', nullable: true })
  subject!: string | null;

  @Column({ type: 'text', nullable: true })
  issuer!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  serial!: string | null;

  @Column({ type: 'timestamptz', name: 'not_before', nullable: true })
  notBefore!: Date | null;

  @Column({ type: 'timestamptz', name: 'not_after', nullable: true })
  notAfter!: Date | null;

  /** The finding as reported (without DER), for detail views and later analysis. */
  @Column({ type: 'jsonb' })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON
  detail!: Record<string, any>;

  @Column({ type: 'bytea', nullable: true })
  der!: Buffer | null;

  /** Sequence of the report that last mentioned this item (drives full-sync removal). */
  @Column({ type: 'bigint', name: 'seen_sequence' })
  seenSequence!: string;

  @Column({ type: 'timestamptz', name: 'first_seen_at' })
  firstSeenAt!: Date;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
