import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

// pg returns bigint as a string, PGlite as a number: always a string here (it is hashed).
const BIGINT_AS_STRING = { from: (v: string | number | null) => (v === null ? v : String(v)), to: (v: string) => v };

/**
 * One line of the audit trail. Events form a hash chain: `hash` = SHA-256 over the previous hash and
 * this event's canonical JSON, so a deleted or edited row breaks `certfleet audit verify`.
 */
@Entity('audit_events')
@Index('idx_audit_events_subject', ['subjectType', 'subjectId'])
export class AuditEvent {
  /** 1, 2, 3... without gaps: assigned under the chain-head row lock. */
  @PrimaryColumn({ type: 'bigint', transformer: BIGINT_AS_STRING })
  seq!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  /** "token:<name>", "agent:<id>", "system:<component>". */
  @Column({ type: 'varchar', length: 200 })
  actor!: string;

  /** e.g. "managed.created", "job.issued", "issuing-ca.imported". */
  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'varchar', length: 32, name: 'subject_type' })
  subjectType!: string;

  @Column({ type: 'varchar', length: 200, name: 'subject_id' })
  subjectId!: string;

  /** { before?, after?, ...context }: what changed. */
  @Column({ type: 'jsonb' })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON
  detail!: Record<string, any>;

  @Column({ type: 'varchar', length: 64, name: 'prev_hash' })
  prevHash!: string;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}

/** The single row that serialises appends to the chain (id = 1). */
@Entity('audit_chain_head')
export class AuditChainHead {
  @PrimaryColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'bigint', name: 'last_seq', transformer: BIGINT_AS_STRING })
  lastSeq!: string;

  @Column({ type: 'varchar', length: 64, name: 'last_hash' })
  lastHash!: string;
}
