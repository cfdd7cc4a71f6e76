// Runs the server's certificate jobs on this host: key and CSR, then (when the certificate comes)
// check, install, reload, validate, roll back on failure, and one result per job. Every step is
// journaled first, so a restarted agent resumes where it stopped and a replayed message never makes
// a job run twice.
import { X509Certificate } from 'node:crypto';
import { createKeyAndCsrFor, CSR_KEY_TYPES, CsrKeyType } from '@certfleet/pki';
import { CertificateJob, JobCertificate, JobChallenge, JobChallengeCleanup, JobChallengeReady, JobCsr, JobOutcome, JobRejected, JobResult, JobResultAck } from '@certfleet/proto';
import { InstallFailedError } from '@certfleet/targets';
import { Logger } from '../log';
import { StateDir } from '../state/state-dir';
import { activateCertificate, reloadService } from './activation';
import { JobChallenges } from './challenges/job-challenges';
import { checkJobCertificate, describeCertificate, parseCertificates, serialHex } from './certificate-check';
import { filesNotInPlace, planJobInstall, PlannedInstall, Undo, undoFromRecord, writeJobFiles } from './job-install';
import { isValidJobId, JobJournal, JobJournalStore, JobMaterial, JournalEntry } from './journal';
import { targetSpecs } from './target-specs';

/** How the runner talks back to the server (the session sends these on the stream when connected). */
export interface JobOutbound {
  sendCsr(msg: JobCsr): void;
  sendResult(msg: JobResult): void;
  /** ACME HTTP-01: the challenge is answered (or why not). */
  sendChallengeReady?(msg: JobChallengeReady): void;
}

export interface JobRunnerOptions {
  stateDir: StateDir;
  log: Logger;
  outbound: JobOutbound;
  /** Called after a job installed a certificate successfully (e.g. to rescan). */
  onInstalled?: () => void;
  now?: () => Date;
  /**
   * Tests only: stop working on a job right after its journal reaches this stage, as if the agent
   * had died there. The job is left for a new JobRunner over the same state directory.
   */
  haltAfterStage?: 'csr-sent' | 'installing' | 'installed' | 'rolling-back';
  /** Address for standalone HTTP-01 listeners; default all of this host's addresses. */
  challengeListenHost?: string;
}

/** Tombstones of acknowledged jobs are kept this long to recognise replays. */
export const TOMBSTONE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const MAX_ERROR_CHARS = 4000;

type FailureStage = 'key' | 'csr' | 'certificate' | 'install' | 'rollback';

class Halt extends Error {}

/**
 * One queue per agent: every step (key + CSR for a new job; check + install + reload + validate
 * for a certificate; rejections; acks) runs alone, in the order the messages arrived. Waiting for
 * a job's certificate does not hold the queue, so a server that never answers one CSR cannot stall
 * the other jobs; two installs never overlap.
 *
 * Handlers never throw and never block: they journal (synchronously, atomically) and queue.
 */
export class JobRunner {
  private readonly journal: JobJournalStore;
  private readonly log: Logger;
  private readonly now: () => Date;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  /** Jobs with a key/CSR, install or recovery task queued or running in this process. */
  private readonly busy = new Set<string>();
  /** Jobs stopped by haltAfterStage: for this process they are as good as crashed. */
  private readonly halted = new Set<string>();
  private readonly challenges: JobChallenges;

  constructor(private readonly opts: JobRunnerOptions) {
    this.journal = new JobJournalStore(opts.stateDir);
    this.log = opts.log;
    this.now = opts.now ?? (() => new Date());
    this.challenges = new JobChallenges({
      log: this.log,
      journalOf: (jobId) => this.readJournal(jobId),
      sendReady: (msg) => opts.outbound.sendChallengeReady?.(msg),
      listenHost: opts.challengeListenHost,
      label,
    });
  }

  /** ACME HTTP-01 for a job waiting for its certificate (see JobChallenges). */
  onChallenge(msg: JobChallenge): void {
    this.challenges.present(msg);
  }

  onChallengeCleanup(msg: JobChallengeCleanup): void {
    this.challenges.cleanup(msg);
  }

  /** Takes away challenge files and listeners still up (agent shutdown). */
  closeChallenges(): Promise<void> {
    return this.challenges.closeAll();
  }

  /** After each (re)connect: resend CSRs awaiting a certificate and results awaiting an ack; resume jobs interrupted by a crash. */
  resume(): void {
    let entries: JournalEntry[];
    try {
      const pruned = this.journal.prune(new Date(this.now().getTime() - TOMBSTONE_RETENTION_MS), (file, error) =>
        this.log('error', `job journal ${file} is unreadable and left alone: ${error.message}`),
      );
      if (pruned.length > 0) this.log('debug', `forgot ${pruned.length} finished job(s) older than 30 days`);
      entries = this.journal.list(() => undefined); // already reported by prune
    } catch (error) {
      this.log('error', `cannot read the job journals in ${this.journal.dir}: ${(error as Error).message}`);
      return;
    }
    for (const entry of entries) {
      if (this.busy.has(entry.jobId) || this.halted.has(entry.jobId)) continue;
      switch (entry.stage) {
        case 'queued':
          this.enqueueJobTask(entry.jobId, 'prepare', () => this.prepare(entry.jobId));
          break;
        case 'installing':
        case 'installed':
        case 'rolling-back':
          this.log('warn', `${label(entry)}: the agent stopped at stage ${entry.stage}; finishing the job`);
          this.enqueueJobTask(entry.jobId, 'recover', () => this.recover(entry.jobId));
          break;
        case 'csr-sent':
        case 'result':
          this.resendPending(entry);
          break;
        case 'done':
          break; // acknowledged: only a replay of the job gets its result again
      }
    }
  }

  /** Idempotent per job_id: a known job is never restarted (its pending message is resent). */
  onJob(job: CertificateJob): void {
    if (!isValidJobId(job.jobId)) {
      this.log('warn', `refusing a job with an invalid id ${JSON.stringify(String(job.jobId).slice(0, 80))}`);
      this.send('result', job.jobId, () =>
        this.opts.outbound.sendResult({
          jobId: job.jobId,
          outcome: JobOutcome.JOB_OUTCOME_FAILED,
          stage: 'key',
          error: 'the job id is not acceptable to this agent (letters, digits, "-" and "_", at most 128)',
          installedSerial: '',
          durationMs: 0,
        }),
      );
      return;
    }
    const existing = this.readJournal(job.jobId);
    if (existing === null) return;
    if (existing) {
      this.log('debug', `${label(existing)}: job delivered again at stage ${existing.stage}; not restarting it`);
      this.resendPending(existing);
      return;
    }
    const journal: JobJournal = { version: 1, jobId: job.jobId, stage: 'queued', receivedAt: this.now().toISOString(), job };
    try {
      this.journal.write(journal);
    } catch (error) {
      this.log('error', `${label(journal)}: cannot journal the job, not starting it: ${(error as Error).message}`);
      return;
    }
    this.log('info', `${label(journal)}: received (attempt ${job.attempt}, ${job.keyType}, ${job.targets.length} target(s))`);
    this.enqueueJobTask(job.jobId, 'prepare', () => this.prepare(job.jobId));
  }

  /** Repeated deliveries after the job has moved on change nothing. */
  onCertificate(msg: JobCertificate): void {
    if (!isValidJobId(msg.jobId)) {
      this.log('warn', `ignoring a certificate for an invalid job id ${JSON.stringify(String(msg.jobId).slice(0, 80))}`);
      return;
    }
    if (this.busy.has(msg.jobId)) {
      this.log('debug', `job ${msg.jobId}: certificate delivered again while the job is busy; ignored`);
      return;
    }
    this.enqueueJobTask(msg.jobId, 'install', () => this.install(msg));
  }

  onRejected(msg: JobRejected): void {
    if (!isValidJobId(msg.jobId)) return;
    this.enqueue(() => this.rejected(msg));
  }

  onResultAck(msg: JobResultAck): void {
    if (!isValidJobId(msg.jobId)) return;
    this.enqueue(async () => this.acknowledged(msg.jobId));
  }

  /** Resolves when no job is executing (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ---- the queue: one task at a time, in arrival order -------------------------------------

  private enqueue(task: () => Promise<void>): void {
    this.pending++;
    this.tail = this.tail.then(async () => {
      try {
        await task();
      } catch (error) {
        if (!(error instanceof Halt)) this.log('error', `job task failed unexpectedly: ${(error as Error).stack ?? error}`);
      } finally {
        this.pending--;
        if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    });
  }

  private enqueueJobTask(jobId: string, what: string, task: () => Promise<void>): void {
    if (this.busy.has(jobId)) return;
    this.busy.add(jobId);
    this.enqueue(async () => {
      try {
        await task();
      } finally {
        this.busy.delete(jobId);
      }
    });
    this.log('debug', `job ${jobId}: ${what} queued`);
  }

  // ---- steps ---------------------------------------------------------------------------------

  /** Key on this host, stored 0600 before the CSR leaves; then the CSR. */
  private async prepare(jobId: string): Promise<void> {
    const journal = this.activeJournal(jobId, ['queued']);
    if (!journal) return;
    const { job } = journal;
    if (!(CSR_KEY_TYPES as readonly string[]).includes(job.keyType)) {
      return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'key', `unsupported key type "${job.keyType}": use ${CSR_KEY_TYPES.join(', ')}`);
    }
    try {
      targetSpecs(job.targets); // refuse a job we could never install before asking for a certificate
    } catch (error) {
      return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'install', (error as Error).message);
    }
    let request: { privateKeyPem: string; csrPem: string };
    try {
      request = await createKeyAndCsrFor({
        keyType: job.keyType as CsrKeyType,
        commonName: job.commonName || undefined,
        dnsNames: job.dnsNames,
        ipAddresses: job.ipAddresses,
      });
    } catch (error) {
      return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'csr', `cannot make the CSR: ${(error as Error).message}`);
    }
    this.journal.writeKey(jobId, request.privateKeyPem);
    journal.csrPem = request.csrPem;
    this.advance(journal, 'csr-sent');
    this.log('info', `${label(journal)}: ${job.keyType} key generated on this host, CSR sent`);
    this.sendCsr(journal);
  }

  private async rejected(msg: JobRejected): Promise<void> {
    const journal = this.readJournal(msg.jobId);
    if (!journal) {
      if (journal === undefined) this.log('debug', `job ${msg.jobId}: rejection for a job this agent does not know; ignored`);
      return;
    }
    if (journal.stage !== 'queued' && journal.stage !== 'csr-sent') {
      this.log('debug', `${label(journal)}: rejection at stage ${journal.stage}; ignored`);
      return;
    }
    const reasons = msg.reasons.length ? msg.reasons.join('; ') : 'no reason given';
    this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'csr', `the server rejected the job: ${reasons}`);
  }

  /** The certificate arrived: check it, record what the paths hold, write, then activate. */
  private async install(msg: JobCertificate): Promise<void> {
    const entry = this.readJournal(msg.jobId);
    if (!entry) {
      if (entry === undefined) this.log('warn', `job ${msg.jobId}: certificate for a job this agent does not know; ignored`);
      return;
    }
    if (entry.stage !== 'csr-sent') {
      this.log('debug', `${label(entry)}: certificate delivered at stage ${entry.stage}; nothing to do`);
      if (entry.stage === 'result' || entry.stage === 'done') this.sendResult(entry);
      return;
    }
    const journal = entry;
    const privateKeyPem = this.journal.readKey(journal.jobId);
    if (!privateKeyPem) {
      return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'key', `the job's private key is missing from ${this.journal.keyPath(journal.jobId)}`);
    }
    const material: JobMaterial = { certificatePem: msg.certificatePem, chainPem: msg.chainPem, rootPem: msg.rootPem };
    let leaf: X509Certificate;
    let root: X509Certificate;
    try {
      ({ leaf, root } = checkJobCertificate(material, privateKeyPem, this.now()));
    } catch (error) {
      return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'certificate', (error as Error).message);
    }
    this.log('info', `${label(journal)}: certificate ${describeCertificate(leaf)} received and checked`);

    let plan: PlannedInstall;
    try {
      plan = await planJobInstall(journal.job.targets, { certificatePem: material.certificatePem, chainPem: material.chainPem, privateKeyPem });
    } catch (error) {
      return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'install', (error as Error).message);
    }
    this.log('info', `${label(journal)}: installing to ${plan.description}`);
    journal.install = plan.record;
    journal.certificate = material;
    this.advance(journal, 'installing');

    let written: Awaited<ReturnType<typeof writeJobFiles>>;
    try {
      written = await writeJobFiles(plan.writes);
    } catch (error) {
      if (error instanceof InstallFailedError && !error.rolledBack) {
        const failures = error.rollbackErrors.map((e) => e.message).join('; ');
        return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'rollback', `${error.message}; not restored: ${failures}`);
      }
      return this.finish(journal, JobOutcome.JOB_OUTCOME_FAILED, 'install', (error as Error).message);
    }
    this.advance(journal, 'installed');
    this.log('info', `${label(journal)}: ${written.changed} of ${written.total} file(s) written`);
    await this.activate(journal, leaf, root, written.undo);
  }

  /** After a crash between writing the files and the result. */
  private async recover(jobId: string): Promise<void> {
    const journal = this.activeJournal(jobId, ['installing', 'installed', 'rolling-back']);
    if (!journal) return;
    const undo = undoFromRecord(journal.install, (report) =>
      this.log('info', `${label(journal)}: restored ${report.restored.length}, removed ${report.removed.length}, unchanged ${report.untouched.length}`),
    );
    if (journal.stage === 'rolling-back' && journal.rollback) {
      return this.rollBack(journal, journal.rollback.stage, journal.rollback.reason, undo);
    }
    const record = journal.install;
    const material = journal.certificate;
    if (!record || !material) {
      // Cannot happen with journals this code writes; put back what can be put back.
      return this.rollBack(journal, 'install', 'the journal lacks the install record', undo);
    }
    const missing = filesNotInPlace(record);
    if (missing.length > 0) {
      const written = record.files.length - missing.length;
      return this.rollBack(
        journal,
        'install',
        `the agent stopped while writing the files (${written} of ${record.files.length} in place; not: ${missing.join(', ')})`,
        undo,
      );
    }
    const [leaf] = parseCertificates(material.certificatePem, 'certificate');
    const [root] = parseCertificates(material.rootPem, 'root');
    if (journal.stage === 'installing') this.advance(journal, 'installed');
    await this.activate(journal, leaf, root, undo);
  }

  /** Files are in place: reload, validate, then commit and report success; or roll back. */
  private async activate(journal: JobJournal, leaf: X509Certificate, root: X509Certificate, undo: Undo): Promise<void> {
    const activation = await activateCertificate(journal.job, leaf, root, this.now, (timeoutMs) => this.logReload(journal, timeoutMs));
    if (!activation.ok) return this.rollBack(journal, activation.stage, activation.error, undo);
    if (activation.validatedBy) this.log('info', `${label(journal)}: ${activation.validatedBy}`);
    try {
      await undo.commit();
    } catch (error) {
      this.log('warn', `${label(journal)}: closing the install failed (the new certificate stays): ${(error as Error).message}`);
    }
    this.finish(journal, JobOutcome.JOB_OUTCOME_SUCCEEDED, 'done', '', serialHex(leaf));
    try {
      this.opts.onInstalled?.();
    } catch (error) {
      this.log('warn', `onInstalled failed: ${(error as Error).message}`);
    }
  }

  /** Puts the previous files back and reloads them; ROLLED_BACK, or FAILED at 'rollback' if a file could not be restored. */
  private async rollBack(journal: JobJournal, stage: 'install' | 'reload' | 'validate', reason: string, undo: Undo): Promise<void> {
    this.log('warn', `${label(journal)}: ${stage} failed, rolling back: ${reason}`);
    if (stage !== 'install') journal.rollback = { stage, reason };
    this.advance(journal, 'rolling-back');
    const errors = await undo.rollback();
    if (errors.length > 0) {
      // Reloading a half-restored set of files could take the service down; leave it serving what it loaded.
      return this.finish(
        journal,
        JobOutcome.JOB_OUTCOME_FAILED,
        'rollback',
        `${stage} failed: ${reason}; restoring the previous files failed: ${errors.join('; ')}`,
      );
    }
    const reload = await reloadService(journal.job, (timeoutMs) => this.logReload(journal, timeoutMs));
    const reloaded = reload.ok ? 'previous files restored and reloaded' : `previous files restored, but reloading them failed: ${reload.error}`;
    this.finish(journal, JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage, `${stage} failed: ${reason}; ${reloaded}`);
  }

  private logReload(journal: JobJournal, timeoutMs: number): void {
    this.log('info', `${label(journal)}: running the reload command (timeout ${timeoutMs / 1000} s)`);
  }

  private finish(journal: JobJournal, outcome: JobOutcome, stage: string, error: string, installedSerial = ''): void {
    const durationMs = this.now().getTime() - new Date(journal.receivedAt).getTime();
    journal.result = {
      jobId: journal.jobId,
      outcome,
      stage,
      error: error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}...` : error,
      installedSerial,
      durationMs: Math.min(0xffffffff, Math.max(0, Math.round(durationMs))),
    };
    this.advance(journal, 'result');
    const level = outcome === JobOutcome.JOB_OUTCOME_SUCCEEDED ? 'info' : 'warn';
    this.log(level, `${label(journal)}: ${outcomeName(outcome)} at ${stage}${error ? `: ${error}` : ''}`);
    this.sendResult(journal);
  }

  private acknowledged(jobId: string): void {
    const journal = this.readJournal(jobId);
    if (!journal || journal.stage !== 'result' || !journal.result) return;
    this.journal.deleteKey(jobId);
    this.journal.write({
      version: 1,
      jobId,
      stage: 'done',
      outcome: outcomeName(journal.result.outcome),
      finishedAt: this.now().toISOString(),
      result: journal.result,
    });
    this.log('debug', `${label(journal)}: result acknowledged`);
  }

  // ---- journal helpers -----------------------------------------------------------------------

  /** The entry, undefined if there is none, null if it cannot be read (already logged). */
  private readJournal(jobId: string): JournalEntry | undefined | null {
    try {
      return this.journal.read(jobId);
    } catch (error) {
      this.log('error', `job ${jobId}: journal unreadable, leaving the job alone: ${(error as Error).message}`);
      return null;
    }
  }

  private activeJournal(jobId: string, stages: JobJournal['stage'][]): JobJournal | undefined {
    const entry = this.readJournal(jobId);
    if (!entry || entry.stage === 'done' || !stages.includes(entry.stage)) return undefined;
    return entry;
  }

  /** Journals the new stage (durably) before anything that depends on it happens. */
  private advance(journal: JobJournal, stage: JobJournal['stage']): void {
    journal.stage = stage;
    this.journal.write(journal);
    if (this.opts.haltAfterStage === stage) {
      this.halted.add(journal.jobId);
      this.log('warn', `${label(journal)}: halting after stage ${stage} (test hook)`);
      throw new Halt();
    }
  }

  private resendPending(entry: JournalEntry): void {
    if (entry.stage === 'csr-sent') this.sendCsr(entry);
    else if (entry.stage === 'result' || entry.stage === 'done') this.sendResult(entry);
  }

  private sendCsr(journal: JobJournal): void {
    if (!journal.csrPem) return;
    const csrPem = journal.csrPem;
    this.send('CSR', journal.jobId, () => this.opts.outbound.sendCsr({ jobId: journal.jobId, csrPem }));
  }

  private sendResult(entry: JournalEntry): void {
    const result = entry.result;
    if (result) this.send('result', entry.jobId, () => this.opts.outbound.sendResult(result));
  }

  private send(what: string, jobId: string, send: () => void): void {
    try {
      send();
    } catch (error) {
      this.log('warn', `job ${jobId}: sending the ${what} failed (resent on reconnect): ${(error as Error).message}`);
    }
  }
}

function label(entry: JournalEntry): string {
  return entry.stage === 'done' ? `job ${entry.jobId}` : `job ${entry.jobId} (${entry.job.name || entry.job.managedCertificateId})`;
}

/** "JOB_OUTCOME_SUCCEEDED" etc. (the enum's own name for the value). */
function outcomeName(outcome: JobOutcome): string {
  return JobOutcome[outcome] ?? String(outcome);
}
