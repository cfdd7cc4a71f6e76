import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { RevocationChecker, RevocationCheckResult, RevocationStatus } from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { forEachLimited } from './bounded-concurrency';
import { CertificateRevocationStatus } from './certificate-revocation-status.entity';
import { IssuerFinder } from './issuer-finder';
import { DueCertificate, RevocationStatusStore, Selection } from './revocation-status.store';

/** The checker the service asks (one per server: its OCSP and CRL caches outlive passes). */
export const REVOCATION_CHECKER = Symbol('REVOCATION_CHECKER');

export type RevocationCounts = Record<RevocationStatus, number>;

export interface RevocationCheckRun {
  /** Distinct certificates (by fingerprint) looked at in this run. */
  checked: number;
  counts: RevocationCounts;
  /** Certificates the selection still holds beyond this run's bound (the next passes take them). */
  remaining: number;
}

/** Most certificates one pass looks at: a pass stays short, a backlog drains over several. */
export const PASS_LIMIT = 5000;
const MINUTE = 60_000;
const UNREACHABLE_RETRY_MS = 5 * MINUTE;
// Nothing about an expired certificate or a final revocation changes: look again rarely.
const SETTLED_RECHECK_MS = 365 * 24 * 60 * MINUTE;
// The first pass waits for the HTTP listener: certfleet's own CAs' OCSP/CRLs are served by it.
const FIRST_PASS_DELAY_MS = 10_000;
const MIN_WAIT_MS = 30_000;

/**
 * Revocation status of every certificate in the inventory, whoever issued it: a background pass
 * checks certificates that are due (never checked, or next_check_at passed) with bounded
 * concurrency, and `checkNow` checks on request. Passes in this process run one at a time.
 */
@Injectable()
export class RevocationStatusService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RevocationStatus');
  private readonly store: RevocationStatusStore;
  private readonly intervalMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(REVOCATION_CHECKER) private readonly checker: RevocationChecker,
  ) {
    this.store = new RevocationStatusStore(ds);
    // With the background pass off, answers without nextUpdate still need some lifetime.
    this.intervalMs = (config.revocationCheck.intervalMinutes || 60) * MINUTE;
  }

  onApplicationBootstrap(): void {
    if (this.config.revocationCheck.enabled) this.schedule(FIRST_PASS_DELAY_MS);
  }

  /** Stops the timer and lets a pass in progress finish the checks it started (the database is still open). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.queue;
  }

  /** One background pass: due certificates, at most PASS_LIMIT of them. */
  runPass(now = new Date()): Promise<RevocationCheckRun> {
    return this.exclusive(() => this.check({ kind: 'due', now }, now));
  }

  /**
   * Checks now, whatever next_check_at says: the given fingerprints (lowercase hex), or without
   * them every certificate (least recently checked first, at most PASS_LIMIT). Answers still
   * valid come from the checker's cache, so this sends requests only where they are needed.
   */
  checkNow(fingerprints?: string[], now = new Date()): Promise<RevocationCheckRun> {
    const selection: Selection = fingerprints ? { kind: 'fingerprints', fingerprints: [...new Set(fingerprints)] } : { kind: 'all' };
    return this.exclusive(() => this.check(selection, now));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async check(selection: Selection, now: Date): Promise<RevocationCheckRun> {
    await this.store.prune();
    const batch = await this.store.select(selection, PASS_LIMIT);
    const counts: RevocationCounts = { good: 0, revoked: 0, unknown: 0, unreachable: 0 };
    if (!batch.length) return { checked: 0, counts, remaining: 0 };
    const previous = new Map(
      (await this.ds.getRepository(CertificateRevocationStatus).findBy({ fingerprintSha256: In(batch.map((c) => c.fingerprintSha256)) })).map((row) => [row.fingerprintSha256, row]),
    );
    const finder = await IssuerFinder.load(this.ds, batch);
    const rows = await forEachLimited(
      batch,
      this.config.revocationCheck.concurrency,
      (certificate) => this.checkOne(certificate, finder, previous.get(certificate.fingerprintSha256), now),
      () => this.stopped,
    );
    await this.store.save(rows);
    for (const row of rows) counts[row.status]++;
    return { checked: rows.length, counts, remaining: batch.length < PASS_LIMIT ? 0 : await this.remaining(selection, rows.length, now) };
  }

  private async remaining(selection: Selection, checked: number, now: Date): Promise<number> {
    if (selection.kind === 'fingerprints') return 0;
    if (selection.kind === 'all') return Math.max(0, (await this.store.count(selection)) - checked);
    return this.store.count({ kind: 'due', now });
  }

  /** The new row for one certificate; never throws (a failure is an 'unknown' that says why). */
  private async checkOne(certificate: DueCertificate, finder: IssuerFinder, before: CertificateRevocationStatus | undefined, now: Date): Promise<CertificateRevocationStatus> {
    // A revocation is final (RFC 5280 5.3.1), except on hold: a later failure to ask must not hide it.
    if (before?.status === 'revoked' && before.reason !== 'certificateHold') return { ...before, nextCheckAt: new Date(now.getTime() + SETTLED_RECHECK_MS) };
    const notChecked = (detail: string, recheckMs = this.intervalMs): CertificateRevocationStatus =>
      row(certificate, { status: 'unknown', source: 'none', detail, checkedAt: now }, new Date(now.getTime() + recheckMs));
    try {
      if (certificate.notAfter && certificate.notAfter.getTime() <= now.getTime()) {
        return notChecked(`not checked: expired ${certificate.notAfter.toISOString()}`, SETTLED_RECHECK_MS);
      }
      const issuer = finder.find(certificate);
      if (issuer.kind === 'self-signed') return notChecked('not checked: self-signed (a root is trusted or not; no CA above it publishes its revocation)');
      if (issuer.kind === 'not-found') return notChecked(issuer.detail);
      const result = await this.checker.check(certificate.der, issuer.der);
      return row(certificate, result, this.nextCheckAt(result, now));
    } catch (error) {
      return notChecked(`not checked: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private nextCheckAt(result: RevocationCheckResult, now: Date): Date {
    const at = (ms: number) => new Date(now.getTime() + ms);
    if (result.status === 'unreachable') return at(Math.min(UNREACHABLE_RETRY_MS, this.intervalMs));
    if (result.status === 'revoked' && result.reason !== 'certificateHold') return at(SETTLED_RECHECK_MS);
    // Until the answer's nextUpdate (the checker's cache would answer until then anyway), at least a minute on.
    if (result.nextUpdate) return new Date(Math.max(result.nextUpdate.getTime(), now.getTime() + MINUTE));
    return at(this.intervalMs);
  }

  private schedule(waitMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.scheduledPass(), waitMs);
    this.timer.unref();
  }

  /** A pass of the background schedule; schedules the next one and returns how long until it. */
  async scheduledPass(): Promise<number> {
    let wait = this.intervalMs;
    try {
      const run = await this.runPass();
      if (run.checked > 0) {
        const { good, revoked, unknown, unreachable } = run.counts;
        this.logger.log(`checked ${run.checked} certificate(s): ${good} good, ${revoked} revoked, ${unknown} unknown, ${unreachable} unreachable${run.remaining ? `; ${run.remaining} more due` : ''}`);
      }
      // A backlog continues at once; otherwise wake for the earliest next_check_at (unreachable retries), within the interval.
      if (run.remaining > 0) wait = 1000;
      else {
        const next = await this.store.nextCheckAt();
        if (next) wait = Math.min(this.intervalMs, Math.max(MIN_WAIT_MS, next.getTime() - Date.now()));
      }
    } catch (error) {
      this.logger.error(`revocation check pass failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.schedule(wait);
    return wait;
  }
}

function row(certificate: DueCertificate, result: Omit<RevocationCheckResult, 'nextUpdate'>, nextCheckAt: Date): CertificateRevocationStatus {
  return {
    fingerprintSha256: certificate.fingerprintSha256,
    status: result.status,
    reason: result.reason ?? null,
    revokedAt: result.revokedAt ?? null,
    source: result.source,
    url: result.url ?? null,
    detail: result.detail,
    checkedAt: result.checkedAt,
    nextCheckAt,
  };
}
