import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * queued: waiting for the agent's CSR. issued: the certificate is signed, waiting for the agent's
 * result. The rest are final.
 */
export type JobState = 'queued' | 'issued' | 'succeeded' | 'rolled_back' | 'failed' | 'cancelled';
export const OPEN_JOB_STATES: readonly JobState[] = ['queued', 'issued'];
export type JobReason = 'issue' | 'renew' | 'renew-now' | 'retry' | 'readopt' | 'replace';

/** One attempt to get a managed certificate issued and installed; its id travels with every message. */
@Entity('certificate_jobs')
// At most one open job per managed certificate, whatever the number of schedulers running.
@Index('uq_certificate_jobs_open', ['managedCertificateId'], { unique: true, where: `"state" IN ('queued', 'issued')` })
@Index('idx_certificate_jobs_agent_state', ['agentId', 'state'])
export class CertificateJob {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid', name: 'managed_certificate_id' })
  managedCertificateId!: string;

  @Column({ type: 'uuid', name: 'agent_id' })
  agentId!: string;

  @Column({ type: 'varchar', length: 16 })
  reason!: JobReason;

  @Column({ type: 'varchar', length: 16 })
  state!: JobState;

  /** 1 + the managed certificate's consecutive failures when the job was made. */
  @Column({ type: 'int' })
  attempt!: number;

  @Column({ type: 'varchar', length: 64, name: 'issued_serial', nullable: true })
  issuedSerial!: string | null;

  /** Which step decided a final state: key, csr, certificate, install, reload, validate, rollback, done. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  stage!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'int', name: 'agent_duration_ms', nullable: true })
  agentDurationMs!: number | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** When the job was due (the renewal time), for latency figures. */
  @Column({ type: 'timestamptz', name: 'due_at' })
  dueAt!: Date;

  @Column({ type: 'timestamptz', name: 'issued_at', nullable: true })
  issuedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true })
  finishedAt!: Date | null;
}
