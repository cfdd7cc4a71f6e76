import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { JobOutcome, type JobCsr, type JobResult, type ServerMessage } from '@certfleet/proto';
import { verifyCsrFast, CsrRejectedError } from '@certfleet/pki';
import { checkCsrAgainstProfile, verifiedCsrMeetsProfile } from '@certfleet/policy';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { AuditEntry, AuditService } from '../audit/audit.service';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuerUnavailableError, IssuingCasService, publicKeySha256 } from '../issuing-cas/issuing-cas.service';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { ManagedCertificatesService } from '../managed/managed-certificates.service';
import { CertificateJob, JobState, OPEN_JOB_STATES } from './certificate-job.entity';
import { certificateJobMessage } from './job-messages';
import { retryDelayMs } from './retry-backoff';

/** How the jobs service reaches agents connected to this replica. */
export interface JobDelivery {
  /** False when the agent has no session here (it gets its jobs when it connects). */
  send(agentId: string, message: ServerMessage): boolean;
}

const FINAL_STATES: Record<number, JobState> = {
  [JobOutcome.JOB_OUTCOME_SUCCEEDED]: 'succeeded',
  [JobOutcome.JOB_OUTCOME_ROLLED_BACK]: 'rolled_back',
  [JobOutcome.JOB_OUTCOME_FAILED]: 'failed',
};

const reject = (jobId: string, reasons: string[]): ServerMessage => ({ payload: { $case: 'jobRejected', value: { jobId, reasons } } });

/**
 * Certificate jobs: made when a managed certificate is due, sent over the agent's stream, signed at
 * most once each (a repeated CSR for the same key gets the same certificate), finished by the agent's
 * result. Every step is idempotent, so duplicates and replays after a crash change nothing.
 */
@Injectable()
export class JobsService {
  private readonly logger = new Logger('Jobs');
  private delivery: JobDelivery = { send: () => false };

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(ManagedCertificatesService) private readonly managed: ManagedCertificatesService,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  attachDelivery(delivery: JobDelivery): void {
    this.delivery = delivery;
  }

  /**
   * Opens a job for every managed certificate that is due and has none (the partial unique index
   * keeps it to one even with several schedulers), then sends each to its agent if connected here.
   */
  async createDueJobs(now = new Date(), limit = 1000): Promise<number> {
    const created = await this.ds.transaction(async (m) => {
      const rows = queryRows<{ id: string; agent_id: string; managed_certificate_id: string; reason: string; attempt: number }>(
        await m.query(
          `INSERT INTO "certificate_jobs" ("managed_certificate_id", "agent_id", "reason", "state", "attempt", "due_at")
           SELECT mc."id", mc."agent_id",
                  CASE WHEN mc."failure_count" > 0 THEN 'retry' WHEN mc."status" = 'pending' THEN 'issue' ELSE 'renew' END,
                  'queued', mc."failure_count" + 1, mc."next_renewal_at"
             FROM "managed_certificates" mc
            WHERE mc."removed_at" IS NULL AND mc."next_renewal_at" <= $1
              AND NOT EXISTS (SELECT 1 FROM "certificate_jobs" j WHERE j."managed_certificate_id" = mc."id" AND j."state" IN ('queued', 'issued'))
            ORDER BY mc."next_renewal_at"
            LIMIT $2
           ON CONFLICT ("managed_certificate_id") WHERE "state" IN ('queued', 'issued') DO NOTHING
           RETURNING "id", "agent_id", "managed_certificate_id", "reason", "attempt"`,
          [now, limit],
        ),
      );
      await this.audit.record(
        m,
        ...rows.map((r): AuditEntry => ({ actor: 'system:scheduler', action: 'job.created', subjectType: 'job', subjectId: r.id, detail: { managedCertificateId: r.managed_certificate_id, agentId: r.agent_id, reason: r.reason, attempt: r.attempt } })),
      );
      return rows;
    });
    if (created.length === 0) return 0;
    const jobs = await this.ds.getRepository(CertificateJob).find({ where: { id: In(created.map((r) => r.id)) } });
    const managed = await this.managedById(jobs.map((j) => j.managedCertificateId));
    for (const job of jobs) {
      const mc = managed.get(job.managedCertificateId);
      if (mc) this.delivery.send(job.agentId, { payload: { $case: 'job', value: certificateJobMessage(job, mc) } });
    }
    return created.length;
  }

  /** Everything open for an agent, for its session to send after the Hello (offline agents catch up here). */
  async openJobMessages(agentId: string): Promise<ServerMessage[]> {
    const jobs = await this.ds.getRepository(CertificateJob).find({ where: { agentId, state: In([...OPEN_JOB_STATES]) }, order: { createdAt: 'ASC' } });
    const managed = await this.managedById(jobs.map((j) => j.managedCertificateId));
    return jobs.flatMap((job) => {
      const mc = managed.get(job.managedCertificateId);
      return mc ? [{ payload: { $case: 'job' as const, value: certificateJobMessage(job, mc) } }] : [];
    });
  }

  /** The agent's CSR for a job: checked against profile and policy, signed once, answered. */
  async handleCsr(agentId: string, msg: JobCsr): Promise<ServerMessage> {
    const job = await this.ds.getRepository(CertificateJob).findOne({ where: { id: msg.jobId } });
    if (!job || job.agentId !== agentId) return reject(msg.jobId, ['no such job for this agent']);
    if (!OPEN_JOB_STATES.includes(job.state)) return reject(job.id, [`the job is already ${job.state}`]);
    const managed = await this.ds.getRepository(ManagedCertificate).findOne({ where: { id: job.managedCertificateId } });
    if (!managed || managed.removedAt) return reject(job.id, ['the managed certificate was removed']);

    let csr: ReturnType<typeof verifyCsrFast>;
    try {
      csr = verifyCsrFast(msg.csrPem);
    } catch (err) {
      const reason = err instanceof CsrRejectedError ? `the CSR was refused: ${err.reason}` : `the CSR was refused: ${(err as Error).message}`;
      return this.refuse(job, managed, 'csr', [reason], agentId);
    }
    const spki = csr.publicKeySpki;
    const keySha = publicKeySha256(spki);
    if (job.state === 'issued') return this.reissue(job, keySha);

    if (!verifiedCsrMeetsProfile(csr, managed.profile, this.managed.policy)) {
      // Slow path, only for refusals: every reason, precisely.
      const violations = await checkCsrAgainstProfile(msg.csrPem, managed.profile, this.managed.policy);
      const reasons = violations.length ? violations.map((v) => `${v.code}: ${v.message}`) : ['the CSR does not match the profile'];
      return this.refuse(job, managed, 'csr', reasons, agentId);
    }

    try {
      const issued = await this.ds.transaction(async (m) => {
        const locked = await m.getRepository(CertificateJob).findOne({ where: { id: job.id }, lock: { mode: 'pessimistic_write' } });
        if (!locked || locked.state !== 'queued') return null; // another replica or a duplicate got here first
        const result = await this.cas.issue(m, managed.issuingCaId!, {
          publicKeySpki: spki,
          profile: { ...managed.profile, commonName: managed.profile.commonName },
          jobId: job.id,
          managedCertificateId: managed.id,
        });
        await m.getRepository(CertificateJob).update({ id: job.id }, { state: 'issued', issuedSerial: result.leaf.serialHex, issuedAt: new Date() });
        await this.audit.record(m, {
          actor: `agent:${agentId}`,
          action: 'certificate.issued',
          subjectType: 'managed-certificate',
          subjectId: managed.id,
          detail: { jobId: job.id, before: { serial: managed.currentSerial, notAfter: managed.notAfter }, after: { serial: result.leaf.serialHex, fingerprintSha256: result.leaf.fingerprintSha256, notBefore: result.leaf.notBefore, notAfter: result.leaf.notAfter } },
        });
        return result;
      });
      if (!issued) {
        const again = await this.ds.getRepository(CertificateJob).findOneOrFail({ where: { id: job.id } });
        return again.state === 'issued' ? this.reissue(again, keySha) : reject(job.id, [`the job is already ${again.state}`]);
      }
      return { payload: { $case: 'jobCertificate', value: { jobId: job.id, certificatePem: issued.leaf.certificatePem, chainPem: issued.chainPem, rootPem: issued.rootPem } } };
    } catch (err) {
      if (err instanceof IssuerUnavailableError) return this.refuse(job, managed, 'issuer', [err.message], agentId);
      throw err;
    }
  }

  /** The agent's result: closes the job once; the managed certificate moves on or backs off. */
  async handleResult(agentId: string, r: JobResult): Promise<ServerMessage> {
    const ack: ServerMessage = { payload: { $case: 'jobResultAck', value: { jobId: r.jobId } } };
    const state = FINAL_STATES[r.outcome];
    if (!state) return ack;
    await this.ds.transaction(async (m) => {
      const job = await m.getRepository(CertificateJob).findOne({ where: { id: r.jobId }, lock: { mode: 'pessimistic_write' } });
      if (!job || job.agentId !== agentId || !OPEN_JOB_STATES.includes(job.state)) return; // unknown, foreign or already final
      const managed = await m.getRepository(ManagedCertificate).findOneOrFail({ where: { id: job.managedCertificateId } });
      const finished = { state, stage: r.stage.slice(0, 16) || null, error: r.error ? r.error.slice(0, 4000) : null, agentDurationMs: r.durationMs, finishedAt: new Date() };
      if (state === 'succeeded' && job.issuedSerial) {
        const cert = await m.getRepository(IssuedCertificate).findOneOrFail({ where: { serial: job.issuedSerial } });
        const next = this.managed.renewalTimeFor(managed, cert.notBefore, cert.notAfter);
        const after = { status: 'active' as const, currentSerial: cert.serial, currentFingerprint: cert.fingerprintSha256, notBefore: cert.notBefore, notAfter: cert.notAfter, nextRenewalAt: next, failureCount: 0, lastError: null };
        await m.getRepository(CertificateJob).update({ id: job.id }, finished);
        await m.getRepository(ManagedCertificate).update({ id: managed.id }, after);
        await this.audit.record(m, {
          actor: `agent:${agentId}`,
          action: 'managed.renewed',
          subjectType: 'managed-certificate',
          subjectId: managed.id,
          detail: { jobId: job.id, before: { status: managed.status, serial: managed.currentSerial, notAfter: managed.notAfter }, after: { status: 'active', serial: cert.serial, notAfter: cert.notAfter, nextRenewalAt: next }, agentDurationMs: r.durationMs },
        });
        return;
      }
      await m.getRepository(CertificateJob).update({ id: job.id }, finished);
      await this.recordFailure(m, managed, job, `${r.stage || 'agent'}: ${r.error || 'failed without a reason'}`, `agent:${agentId}`, state);
    });
    return ack;
  }

  private async reissue(job: CertificateJob, keySha: string): Promise<ServerMessage> {
    const cert = await this.ds.getRepository(IssuedCertificate).findOne({ where: { jobId: job.id } });
    if (!cert) return reject(job.id, ['the job\'s certificate record is missing']);
    if (cert.publicKeySha256 !== keySha) {
      return reject(job.id, ['a certificate was already issued for this job for another key; the job will be retried with a new id']);
    }
    const { chainPem, rootPem } = await this.cas.chainFor(cert.issuingCaId);
    return { payload: { $case: 'jobCertificate', value: { jobId: job.id, certificatePem: cert.certificatePem, chainPem, rootPem } } };
  }

  /** Ends the job as failed before anything was issued, and tells the agent why. */
  private async refuse(job: CertificateJob, managed: ManagedCertificate, stage: string, reasons: string[], agentId: string): Promise<ServerMessage> {
    await this.ds.transaction(async (m) => {
      const locked = await m.getRepository(CertificateJob).findOne({ where: { id: job.id }, lock: { mode: 'pessimistic_write' } });
      if (!locked || locked.state !== 'queued') return;
      await m.getRepository(CertificateJob).update({ id: job.id }, { state: 'failed', stage, error: reasons.join('; ').slice(0, 4000), finishedAt: new Date() });
      const fresh = await m.getRepository(ManagedCertificate).findOneOrFail({ where: { id: managed.id } });
      await this.recordFailure(m, fresh, job, `${stage}: ${reasons.join('; ')}`, `agent:${agentId}`, 'failed');
    });
    this.logger.warn(`job ${job.id} for "${managed.name}" refused: ${reasons.join('; ')}`);
    return reject(job.id, reasons);
  }

  private async recordFailure(m: EntityManager, managed: ManagedCertificate, job: CertificateJob, error: string, actor: string, state: JobState): Promise<void> {
    const failures = managed.failureCount + 1;
    const status = failures >= this.config.renewal.failuresBeforeFailing ? 'failing' : managed.status;
    const retryAt = new Date(Date.now() + retryDelayMs(failures));
    await m.getRepository(ManagedCertificate).update({ id: managed.id }, { failureCount: failures, lastError: error.slice(0, 4000), status, nextRenewalAt: retryAt });
    await this.audit.record(m, {
      actor,
      action: `job.${state}`,
      subjectType: 'managed-certificate',
      subjectId: managed.id,
      detail: { jobId: job.id, error, before: { status: managed.status, failureCount: managed.failureCount }, after: { status, failureCount: failures, retryAt } },
    });
  }

  private async managedById(ids: string[]): Promise<Map<string, ManagedCertificate>> {
    if (ids.length === 0) return new Map();
    const rows = await this.ds.getRepository(ManagedCertificate).find({ where: { id: In([...new Set(ids)]) } });
    return new Map(rows.map((r) => [r.id, r]));
  }
}
