import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { JobOutcome, type JobChallengeReady, type JobCsr, type JobResult, type ServerMessage } from '@certfleet/proto';
import { verifyCsrFast, CsrRejectedError, type FastVerifiedCsr as VerifiedCsr } from '@certfleet/pki';
import { checkCsrAgainstProfile, verifiedCsrMeetsProfile } from '@certfleet/policy';
import { GroupCommit } from '../../common/group-commit';
import { isUuid } from '../../common/ids';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { AcmeCertificate } from '../acme-issuer/acme-certificate.entity';
import { AcmeOrdersService, type AcmeIssuedCertificate, type AcmeOrderFailure } from '../acme-issuer/acme-orders.service';
import { AuditEntry, AuditService } from '../audit/audit.service';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuedFromCa, IssuerUnavailableError, IssuingCasService, publicKeySha256 } from '../issuing-cas/issuing-cas.service';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { ManagedCertificatesService } from '../managed/managed-certificates.service';
import { PolicyService } from '../policy/policy.service';
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

/** What settling a job needs of the certificate it issued (internal CA or ACME). */
type IssuedRecord = Pick<IssuedCertificate, 'serial' | 'fingerprintSha256' | 'notBefore' | 'notAfter' | 'issuedAt'>;

interface CsrToSign {
  agentId: string;
  jobId: string;
  csr: VerifiedCsr;
}

interface ResultToRecord {
  agentId: string;
  result: JobResult;
}

/** The answer comes later (an ACME order is running for the job). */
const DEFERRED = Symbol('deferred');

/** A fresh certificate, or why the issuer could not sign; null: not a clean first issuance. */
type SigningDecision = { answer: ServerMessage } | { issuerError: string } | null;

interface LockedJobRow {
  id: string;
  agent_id: string;
  state: JobState;
  managed_id: string;
  profile: ManagedCertificate['profile'];
  issuing_ca_id: string | null;
  removed_at: Date | null;
  current_serial: string | null;
  not_after: Date | null;
}

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
  private readonly signing = new GroupCommit<CsrToSign, SigningDecision>((batch) => this.signBatch(batch));
  private readonly finishing = new GroupCommit<ResultToRecord, void>((batch) => this.finishBatch(batch));

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(ManagedCertificatesService) private readonly managed: ManagedCertificatesService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Optional() @Inject(AcmeOrdersService) private readonly acme?: AcmeOrdersService,
    @Optional() @Inject(PolicyService) private readonly fleetPolicy?: PolicyService,
  ) {}

  attachDelivery(delivery: JobDelivery): void {
    this.delivery = delivery;
    this.acme?.attachDelivery((agentId, message) => this.delivery.send(agentId, message));
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
                  CASE WHEN mc."replacement_requested_at" IS NOT NULL THEN 'replace' WHEN mc."failure_count" > 0 THEN 'retry' WHEN mc."status" = 'pending' THEN 'issue' ELSE 'renew' END,
                  'queued', mc."failure_count" + 1, mc."next_renewal_at"
             FROM "managed_certificates" mc
            WHERE mc."removed_at" IS NULL AND mc."next_renewal_at" <= $1
              AND NOT EXISTS (SELECT 1 FROM "certificate_jobs" j WHERE j."managed_certificate_id" = mc."id" AND j."state" IN ('queued', 'issued'))
            ORDER BY mc."replacement_requested_at" IS NULL, mc."next_renewal_at"
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

  /** The earliest renewal time still ahead among certificates with no open job (null: none). */
  async nextDueAt(): Promise<Date | null> {
    const [row] = queryRows<{ at: Date | null }>(
      await this.ds.query(
        `SELECT mc."next_renewal_at" AS "at" FROM "managed_certificates" mc
          WHERE mc."removed_at" IS NULL AND mc."next_renewal_at" IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM "certificate_jobs" j WHERE j."managed_certificate_id" = mc."id" AND j."state" IN ('queued', 'issued'))
          ORDER BY mc."next_renewal_at" LIMIT 1`,
      ),
    );
    return row?.at ? new Date(row.at) : null;
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

  /**
   * The agent's CSR for a job: checked against profile and policy, signed once, answered. Concurrent
   * CSRs are signed and recorded together (group commit); anything but a clean issuance (refusal,
   * repeat, unknown job) is answered by `answerWithoutSigning`.
   */
  async handleCsr(agentId: string, msg: JobCsr): Promise<ServerMessage> {
    return (await this.answerCsr(agentId, msg)) ?? { payload: { $case: 'jobRejected', value: { jobId: msg.jobId, reasons: ['the job is issued through ACME: its certificate is sent when the order completes'] } } };
  }

  /**
   * As handleCsr, but null when the answer comes later: for an ACME-issued certificate the order
   * runs in the background (AcmeOrdersService) and its JobCertificate or JobRejected is sent then.
   */
  async answerCsr(agentId: string, msg: JobCsr): Promise<ServerMessage | null> {
    let csr: VerifiedCsr;
    try {
      csr = verifyCsrFast(msg.csrPem);
    } catch (err) {
      const csrError = `the CSR was refused: ${err instanceof CsrRejectedError ? err.reason : (err as Error).message}`;
      const answer = await this.answerWithoutSigning(agentId, msg, { csrError });
      return answer === DEFERRED ? null : answer!; // never null without a CSR
    }
    for (let attempt = 0; ; attempt++) {
      const decision = isUuid(msg.jobId) ? await this.signing.submit({ agentId, jobId: msg.jobId, csr }) : null;
      if (decision && 'answer' in decision) return decision.answer;
      const answer = await this.answerWithoutSigning(agentId, msg, { csr, issuerError: decision?.issuerError });
      if (answer === DEFERRED) return null;
      if (answer || attempt === 2) return answer ?? reject(msg.jobId, ['the job changed while its CSR was checked; it will be sent again']);
    }
  }

  /** One transaction for a batch of CSRs: lock their jobs, sign the clean ones, record them all. */
  private async signBatch(requests: CsrToSign[]): Promise<SigningDecision[]> {
    const decisions: SigningDecision[] = requests.map(() => null);
    await this.ds.transaction(async (m) => {
      const rows = queryRows<LockedJobRow>(
        await m.query(
          `SELECT j."id", j."agent_id", j."state", mc."id" AS "managed_id", mc."profile", mc."issuing_ca_id", mc."removed_at", mc."current_serial", mc."not_after"
             FROM "certificate_jobs" j JOIN "managed_certificates" mc ON mc."id" = j."managed_certificate_id"
            WHERE j."id" = ANY($1::uuid[])
            ORDER BY j."id"
              FOR UPDATE OF j`,
          [[...new Set(requests.map((r) => r.jobId))]],
        ),
      );
      const jobs = new Map(rows.map((r) => [r.id, r]));
      const chosen = new Set<string>();
      const toSign: Array<{ index: number; job: LockedJobRow }> = [];
      requests.forEach((request, index) => {
        const job = jobs.get(request.jobId);
        // Not a clean first issuance (the fallback answers those), or a duplicate of one in this batch.
        if (!job || job.agent_id !== request.agentId || job.state !== 'queued' || job.removed_at || chosen.has(job.id)) return;
        if (!job.issuing_ca_id || !verifiedCsrMeetsProfile(request.csr, job.profile, this.managed.policy)) return;
        chosen.add(job.id);
        toSign.push({ index, job });
      });
      if (toSign.length === 0) return;
      if (this.fleetPolicy) {
        // Fleet policy rules marked blockIssuance: a blocked CSR is left to the fallback, which refuses it with the reasons.
        const blockers = await this.fleetPolicy.issuanceBlockersMany(m, toSign.map(({ index, job }) => ({ profile: job.profile, publicKeySha256: publicKeySha256(requests[index].csr.publicKeySpki) })));
        for (let k = toSign.length - 1; k >= 0; k--) if (blockers[k].length) toSign.splice(k, 1);
        if (toSign.length === 0) return;
      }
      const results = await this.cas.issueMany(
        m,
        toSign.map(({ index, job }) => ({ caId: job.issuing_ca_id!, publicKeySpki: requests[index].csr.publicKeySpki, profile: job.profile, jobId: job.id, managedCertificateId: job.managed_id })),
      );
      const issued: Array<{ job: LockedJobRow; agentId: string; result: IssuedFromCa }> = [];
      results.forEach((result, k) => {
        const { index, job } = toSign[k];
        if (result instanceof IssuerUnavailableError) {
          decisions[index] = { issuerError: result.message };
          return;
        }
        decisions[index] = { answer: { payload: { $case: 'jobCertificate', value: { jobId: job.id, certificatePem: result.leaf.certificatePem, chainPem: result.chainPem, rootPem: result.rootPem } } } };
        issued.push({ job, agentId: requests[index].agentId, result });
      });
      if (issued.length === 0) return;
      await m.query(
        `UPDATE "certificate_jobs" j SET "state" = 'issued', "issued_serial" = v."serial", "issued_at" = $3
           FROM unnest($1::uuid[], $2::text[]) AS v("id", "serial") WHERE j."id" = v."id"`,
        [issued.map((i) => i.job.id), issued.map((i) => i.result.leaf.serialHex), new Date()],
      );
      await this.audit.record(
        m,
        ...issued.map(({ job, agentId, result: { leaf } }): AuditEntry => ({
          actor: `agent:${agentId}`,
          action: 'certificate.issued',
          subjectType: 'managed-certificate',
          subjectId: job.managed_id,
          detail: { jobId: job.id, before: { serial: job.current_serial, notAfter: job.not_after }, after: { serial: leaf.serialHex, fingerprintSha256: leaf.fingerprintSha256, notBefore: leaf.notBefore, notAfter: leaf.notAfter } },
        })),
      );
    });
    return decisions;
  }

  /**
   * Every answer to a CSR other than a fresh certificate: unknown or finished job, removed
   * certificate, refused CSR (with every reason), unusable issuer, or the certificate already issued
   * for the same key. Null when the job is still waiting for a clean CSR (sign it again).
   */
  private async answerWithoutSigning(agentId: string, msg: JobCsr, why: { csrError?: string; csr?: VerifiedCsr; issuerError?: string }): Promise<ServerMessage | null | typeof DEFERRED> {
    const job = isUuid(msg.jobId) ? await this.ds.getRepository(CertificateJob).findOne({ where: { id: msg.jobId } }) : null;
    if (!job || job.agentId !== agentId) return reject(msg.jobId, ['no such job for this agent']);
    if (!OPEN_JOB_STATES.includes(job.state)) return reject(job.id, [`the job is already ${job.state}`]);
    const managed = await this.ds.getRepository(ManagedCertificate).findOne({ where: { id: job.managedCertificateId } });
    if (!managed || managed.removedAt) return reject(job.id, ['the managed certificate was removed']);
    if (!why.csr) return this.refuse(job, managed, 'csr', [why.csrError ?? 'the CSR was refused'], agentId);
    if (job.state === 'issued') return managed.issuerKind === 'acme' ? this.reissueAcme(job, publicKeySha256(why.csr.publicKeySpki)) : this.reissue(job, publicKeySha256(why.csr.publicKeySpki));
    if (managed.issuerKind !== 'acme' && !managed.issuingCaId) return this.refuse(job, managed, 'issuer', ['the managed certificate names no issuing CA'], agentId);
    if (why.issuerError) return this.refuse(job, managed, 'issuer', [why.issuerError], agentId);
    if (!verifiedCsrMeetsProfile(why.csr, managed.profile, this.managed.policy)) {
      // Slow path, only for refusals: every reason, precisely.
      const violations = await checkCsrAgainstProfile(msg.csrPem, managed.profile, this.managed.policy);
      const reasons = violations.length ? violations.map((v) => `${v.code}: ${v.message}`) : ['the CSR does not match the profile'];
      return this.refuse(job, managed, 'csr', reasons, agentId);
    }
    if (this.fleetPolicy) {
      const blockers = await this.ds.transaction((m) => this.fleetPolicy!.issuanceBlockersMany(m, [{ profile: managed.profile, publicKeySha256: publicKeySha256(why.csr!.publicKeySpki) }]));
      if (blockers[0].length) return this.refuse(job, managed, 'policy', blockers[0].map((f) => `policy ${f.ruleId}: ${f.message}`), agentId);
    }
    if (managed.issuerKind === 'acme') {
      if (!this.acme) return this.refuse(job, managed, 'issuer', ['ACME issuance is not available on this server'], agentId);
      this.startAcmeOrder(agentId, job, managed, msg.csrPem, why.csr);
      return DEFERRED;
    }
    return null;
  }

  /** The agent answers an HTTP-01 challenge the ACME order asked it to serve. */
  handleChallengeReady(_agentId: string, msg: JobChallengeReady): void {
    this.acme?.challenges.onReady(msg);
  }

  /** Runs (or joins) the job's ACME order; its outcome is recorded and sent to the agent when it ends. */
  private startAcmeOrder(agentId: string, job: CertificateJob, managed: ManagedCertificate, csrPem: string, csr: VerifiedCsr): void {
    if (this.acme!.isRunning(job.id)) return;
    void this.acme!
      .order({ jobId: job.id, agentId, managed, csrPem })
      .then((outcome) => ('error' in outcome ? this.acmeFailed(agentId, job, managed, outcome) : this.acmeIssued(agentId, job, publicKeySha256(csr.publicKeySpki), outcome)))
      .catch((err: Error) => this.logger.error(`job ${job.id}: recording the ACME outcome failed: ${err.stack ?? err.message}`));
  }

  private async acmeIssued(agentId: string, job: CertificateJob, keySha: string, issued: AcmeIssuedCertificate): Promise<void> {
    const recorded = await this.ds.transaction(async (m) => {
      const locked = await m.getRepository(CertificateJob).findOne({ where: { id: job.id }, lock: { mode: 'pessimistic_write' } });
      if (!locked || locked.state !== 'queued') return false; // cancelled or settled meanwhile
      const mc = await m.getRepository(ManagedCertificate).findOneOrFail({ where: { id: job.managedCertificateId } });
      const now = new Date();
      await m.getRepository(AcmeCertificate).insert({
        serial: issued.serialHex,
        acmeIssuerId: issued.acmeIssuerId,
        managedCertificateId: mc.id,
        jobId: job.id,
        publicKeySha256: keySha,
        fingerprintSha256: issued.fingerprintSha256,
        certificatePem: issued.certificatePem,
        chainPem: issued.chainPem,
        rootPem: issued.rootPem,
        orderUrl: issued.orderUrl,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        issuedAt: now,
        revokedAt: null,
        revocationReason: null,
      });
      await m.getRepository(CertificateJob).update({ id: job.id }, { state: 'issued', issuedSerial: issued.serialHex, issuedAt: now });
      await this.audit.record(m, {
        actor: `agent:${agentId}`,
        action: 'certificate.issued',
        subjectType: 'managed-certificate',
        subjectId: mc.id,
        detail: { jobId: job.id, issuer: 'acme', orderUrl: issued.orderUrl, before: { serial: mc.currentSerial, notAfter: mc.notAfter }, after: { serial: issued.serialHex, fingerprintSha256: issued.fingerprintSha256, notBefore: issued.notBefore, notAfter: issued.notAfter } },
      });
      return true;
    });
    if (recorded) this.delivery.send(agentId, { payload: { $case: 'jobCertificate', value: { jobId: job.id, certificatePem: issued.certificatePem, chainPem: issued.chainPem, rootPem: issued.rootPem } } });
  }

  private async acmeFailed(agentId: string, job: CertificateJob, managed: ManagedCertificate, failure: AcmeOrderFailure): Promise<void> {
    const reasons = [failure.error];
    await this.ds.transaction(async (m) => {
      const locked = await m.getRepository(CertificateJob).findOne({ where: { id: job.id }, lock: { mode: 'pessimistic_write' } });
      if (!locked || locked.state !== 'queued') return;
      await m.getRepository(CertificateJob).update({ id: job.id }, { state: 'failed', stage: 'issuer', error: failure.error.slice(0, 4000), finishedAt: new Date() });
      const fresh = await m.getRepository(ManagedCertificate).findOneOrFail({ where: { id: managed.id } });
      await this.recordFailure(m, fresh, job, `issuer: ${failure.error}`, 'system:acme', 'failed', failure.retryAt, failure.problem ? { type: failure.problem.type, detail: failure.problem.detail, status: failure.problem.status } : undefined);
    });
    this.delivery.send(agentId, reject(job.id, reasons));
  }

  /** The ACME certificate already issued for this job, when the same key asks again. */
  private async reissueAcme(job: CertificateJob, keySha: string): Promise<ServerMessage> {
    const cert = await this.ds.getRepository(AcmeCertificate).findOne({ where: { jobId: job.id } });
    if (!cert) return reject(job.id, ['the job\'s certificate record is missing']);
    if (cert.publicKeySha256 !== keySha) return reject(job.id, ['a certificate was already issued for this job for another key; the job will be retried with a new id']);
    return { payload: { $case: 'jobCertificate', value: { jobId: job.id, certificatePem: cert.certificatePem, chainPem: cert.chainPem, rootPem: cert.rootPem } } };
  }

  /**
   * The agent's result: closes the job once; the managed certificate moves on or backs off.
   * Concurrent results are settled together in one transaction (group commit).
   */
  async handleResult(agentId: string, r: JobResult): Promise<ServerMessage> {
    const ack: ServerMessage = { payload: { $case: 'jobResultAck', value: { jobId: r.jobId } } };
    if (FINAL_STATES[r.outcome] && isUuid(r.jobId)) await this.finishing.submit({ agentId, result: r });
    return ack;
  }

  private async finishBatch(batch: ResultToRecord[]): Promise<void[]> {
    await this.ds.transaction(async (m) => {
      const jobs = new Map(
        (await m.getRepository(CertificateJob).find({ where: { id: In([...new Set(batch.map((b) => b.result.jobId))]) }, order: { id: 'ASC' }, lock: { mode: 'pessimistic_write' } })).map((j) => [j.id, j]),
      );
      const managed = new Map((await m.getRepository(ManagedCertificate).find({ where: { id: In([...new Set([...jobs.values()].map((j) => j.managedCertificateId))]) } })).map((mc) => [mc.id, mc]));
      const serials = [...jobs.values()].flatMap((j) => (j.issuedSerial ? [j.issuedSerial] : []));
      const certs = new Map<string, IssuedRecord>(
        serials.length
          ? [...(await m.getRepository(IssuedCertificate).find({ where: { serial: In(serials) } })), ...(await m.getRepository(AcmeCertificate).find({ where: { serial: In(serials) } }))].map((c) => [c.serial, c])
          : [],
      );
      const now = new Date();
      const finished: Array<{ id: string; state: JobState; stage: string | null; error: string | null; durationMs: number }> = [];
      const renewed: Array<{ mc: ManagedCertificate; cert: IssuedRecord; next: Date }> = [];
      const events: AuditEntry[] = [];
      for (const { agentId, result: r } of batch) {
        const job = jobs.get(r.jobId);
        // Unknown, foreign or already final (a replay, or a duplicate earlier in this batch).
        if (!job || job.agentId !== agentId || !OPEN_JOB_STATES.includes(job.state)) continue;
        const mc = managed.get(job.managedCertificateId)!;
        const state = FINAL_STATES[r.outcome];
        job.state = state;
        finished.push({ id: job.id, state, stage: r.stage.slice(0, 16) || null, error: r.error ? r.error.slice(0, 4000) : null, durationMs: r.durationMs });
        const cert = state === 'succeeded' && job.issuedSerial ? certs.get(job.issuedSerial) : undefined;
        if (cert) {
          const next = this.managed.renewalTimeFor(mc, cert.notBefore, cert.notAfter);
          renewed.push({ mc, cert, next });
          events.push({
            actor: `agent:${agentId}`,
            action: 'managed.renewed',
            subjectType: 'managed-certificate',
            subjectId: mc.id,
            detail: { jobId: job.id, before: { status: mc.status, serial: mc.currentSerial, notAfter: mc.notAfter }, after: { status: 'active', serial: cert.serial, notAfter: cert.notAfter, nextRenewalAt: next }, agentDurationMs: r.durationMs },
          });
        } else {
          await this.recordFailure(m, mc, job, `${r.stage || 'agent'}: ${r.error || 'failed without a reason'}`, `agent:${agentId}`, state);
        }
      }
      if (finished.length === 0) return;
      await m.query(
        `UPDATE "certificate_jobs" j SET "state" = v."state", "stage" = v."stage", "error" = v."error", "agent_duration_ms" = v."ms", "finished_at" = $6
           FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::text[], $5::int[]) AS v("id", "state", "stage", "error", "ms") WHERE j."id" = v."id"`,
        [finished.map((f) => f.id), finished.map((f) => f.state), finished.map((f) => f.stage), finished.map((f) => f.error), finished.map((f) => f.durationMs), now],
      );
      if (renewed.length > 0) {
        // A certificate signed before the replacement was asked for (a job already under way) does not settle it.
        await m.query(
          `UPDATE "managed_certificates" mc SET "status" = 'active', "current_serial" = v."serial", "current_fingerprint" = v."fp", "not_before" = v."nb", "not_after" = v."na",
                  "next_renewal_at" = CASE WHEN mc."replacement_requested_at" > v."issued" THEN $7 ELSE v."next" END, "failure_count" = 0, "last_error" = NULL,
                  "replacement_requested_at" = CASE WHEN mc."replacement_requested_at" > v."issued" THEN mc."replacement_requested_at" END, "updated_at" = $7
             FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $8::timestamptz[]) AS v("id", "serial", "fp", "nb", "na", "next", "issued")
            WHERE mc."id" = v."id"`,
          [renewed.map((x) => x.mc.id), renewed.map((x) => x.cert.serial), renewed.map((x) => x.cert.fingerprintSha256), renewed.map((x) => x.cert.notBefore), renewed.map((x) => x.cert.notAfter), renewed.map((x) => x.next), now, renewed.map((x) => x.cert.issuedAt)],
        );
        await this.audit.record(m, ...events);
      }
    });
    return batch.map(() => undefined);
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

  /** `notBefore`: the issuer's own retry time (an ACME CA's Retry-After, the reissue guard), used instead of the backoff. */
  private async recordFailure(m: EntityManager, managed: ManagedCertificate, job: CertificateJob, error: string, actor: string, state: JobState, notBefore?: Date, problem?: object): Promise<void> {
    const failures = managed.failureCount + 1;
    const status = failures >= this.config.renewal.failuresBeforeFailing ? 'failing' : managed.status;
    const retryAt = notBefore ?? new Date(Date.now() + retryDelayMs(failures));
    await m.getRepository(ManagedCertificate).update({ id: managed.id }, { failureCount: failures, lastError: error.slice(0, 4000), status, nextRenewalAt: retryAt });
    await this.audit.record(m, {
      actor,
      action: `job.${state}`,
      subjectType: 'managed-certificate',
      subjectId: managed.id,
      detail: { jobId: job.id, error, ...(problem ? { problem } : {}), before: { status: managed.status, failureCount: managed.failureCount }, after: { status, failureCount: failures, retryAt } },
    });
  }

  private async managedById(ids: string[]): Promise<Map<string, ManagedCertificate>> {
    if (ids.length === 0) return new Map();
    const rows = await this.ds.getRepository(ManagedCertificate).find({ where: { id: In([...new Set(ids)]) } });
    return new Map(rows.map((r) => [r.id, r]));
  }
}
