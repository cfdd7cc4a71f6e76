import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { RuleType, Severity } from '@certfleet/policy';

/**
 * A rule of the active policy that a certificate breaks, by certificate fingerprint (every copy on
 * every host). Kept while it holds (last_seen_at moves with each pass), removed when it no longer does.
 */
@Entity('policy_findings')
@Index('idx_policy_findings_severity', ['severity'])
export class PolicyFindingRecord {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'fingerprint_sha256', primaryKeyConstraintName: 'PK_policy_findings' })
  fingerprintSha256!: string;

  @PrimaryColumn({ type: 'varchar', length: 64, name: 'rule_id', primaryKeyConstraintName: 'PK_policy_findings' })
  ruleId!: string;

  @Column({ type: 'varchar', length: 32 })
  rule!: RuleType;

  @Column({ type: 'varchar', length: 16 })
  severity!: Severity;

  @Column({ type: 'boolean', name: 'block_issuance' })
  blockIssuance!: boolean;

  @Column({ type: 'text' })
  message!: string;

  @Column({ type: 'timestamptz', name: 'first_seen_at' })
  firstSeenAt!: Date;

  @Column({ type: 'timestamptz', name: 'last_seen_at' })
  lastSeenAt!: Date;
}
