import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { CtLog } from './ct-log.entity';

/** A certificate for a watched domain, seen in a CT log, that certfleet did not know. */
@Entity('ct_findings')
@Index('uq_ct_findings_entry', ['ctLogId', 'entryIndex'], { unique: true })
export class CtFinding {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid', name: 'ct_log_id' })
  ctLogId!: string;

  @ManyToOne(() => CtLog, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'ct_log_id' })
  ctLog?: CtLog;

  @Column({ type: 'bigint', name: 'entry_index' })
  entryIndex!: string;

  /** x509 | precert */
  @Column({ type: 'varchar', length: 8 })
  kind!: string;

  /** The watched domain it matched. */
  @Column({ type: 'varchar', length: 253 })
  domain!: string;

  @Column({ type: 'jsonb', name: 'dns_names' })
  dnsNames!: string[];

  @Column({ type: 'varchar', length: 64, name: 'fingerprint_sha256', nullable: true })
  fingerprintSha256!: string | null;

  @Column({ type: 'varchar', length: 128 })
  serial!: string;

  @Column({ type: 'text' })
  issuer!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'timestamptz', name: 'not_after' })
  notAfter!: Date;

  /** The log's timestamp for the entry. */
  @Column({ type: 'timestamptz', name: 'logged_at' })
  loggedAt!: Date;

  @Column({ type: 'timestamptz', name: 'found_at' })
  foundAt!: Date;
}
