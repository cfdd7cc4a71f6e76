import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { CertificateProfile } from '@certfleet/policy';
import type { TargetSpec } from '@certfleet/targets';
import type { AcmeChallengeSpec } from '../acme-issuer/acme-challenge-spec';

/**
 * pending: never issued yet. active: installed and valid. failing: renewal failed `failureCount`
 * times in a row (visible, still retried). removed: no longer managed (kept for the audit trail).
 */
export type ManagedStatus = 'pending' | 'active' | 'failing' | 'removed';

export interface TlsValidationSpec {
  host: string;
  port: number;
  /** SNI; default the profile's first DNS name. */
  serverName?: string;
  timeoutSeconds?: number;
}

/** A certificate certfleet keeps alive on one agent: profile, issuer, where it goes, how to reload. */
@Entity('managed_certificates')
@Index('idx_managed_next_renewal', ['nextRenewalAt'])
@Index('idx_managed_agent', ['agentId'])
export class ManagedCertificate {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'uuid', name: 'agent_id' })
  agentId!: string;

  /** 'internal' (an issuing CA of this server, `issuingCaId`) or 'acme' (`acmeIssuerId`, `acmeChallenge`). */
  @Column({ type: 'varchar', length: 16, name: 'issuer_kind', default: 'internal' })
  issuerKind!: 'internal' | 'acme';

  @Column({ type: 'uuid', name: 'issuing_ca_id', nullable: true })
  issuingCaId!: string | null;

  @Column({ type: 'uuid', name: 'acme_issuer_id', nullable: true })
  acmeIssuerId?: string | null;

  /** How the ACME CA's challenges are answered (secrets inside are sealed); null for internal issuers. */
  @Column({ type: 'jsonb', name: 'acme_challenge', nullable: true })
  acmeChallenge?: AcmeChallengeSpec | null;

  @Column({ type: 'jsonb' })
  profile!: CertificateProfile;

  @Column({ type: 'jsonb' })
  targets!: TargetSpec[];

  @Column({ type: 'text', name: 'reload_command', default: '' })
  reloadCommand!: string;

  @Column({ type: 'int', name: 'reload_timeout_seconds', default: 30 })
  reloadTimeoutSeconds!: number;

  @Column({ type: 'jsonb', nullable: true })
  validation!: TlsValidationSpec | null;

  /** Renew this many days before expiry; null: at 2/3 of the lifetime. Never inside the critical window. */
  @Column({ type: 'int', name: 'renew_before_days', nullable: true })
  renewBeforeDays!: number | null;

  @Column({ type: 'varchar', length: 16 })
  status!: ManagedStatus;

  @Column({ type: 'varchar', length: 64, name: 'current_serial', nullable: true })
  currentSerial!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'current_fingerprint', nullable: true })
  currentFingerprint!: string | null;

  @Column({ type: 'timestamptz', name: 'not_before', nullable: true })
  notBefore!: Date | null;

  @Column({ type: 'timestamptz', name: 'not_after', nullable: true })
  notAfter!: Date | null;

  /** When the scheduler should next start a job (renewal time, or the retry time after a failure). */
  @Column({ type: 'timestamptz', name: 'next_renewal_at', nullable: true })
  nextRenewalAt!: Date | null;

  @Column({ type: 'int', name: 'failure_count', default: 0 })
  failureCount!: number;

  /**
   * Set when the current certificate must be replaced now (revoked, or its CA distrusted): the
   * scheduler serves these before ordinary renewals; cleared by the next successful install.
   */
  @Column({ type: 'timestamptz', name: 'replacement_requested_at', nullable: true })
  replacementRequestedAt?: Date | null;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  /** Fingerprint of the discovered certificate this one was adopted from, if any. */
  @Column({ type: 'varchar', length: 64, name: 'adopted_from', nullable: true })
  adoptedFrom!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', name: 'removed_at', nullable: true })
  removedAt!: Date | null;
}
