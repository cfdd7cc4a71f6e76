// The revocation check: OCSP first (each AIA URL in turn), then each CRL distribution point;
// verified answers only, cached until their nextUpdate.
import { AnswerCache } from './answer-cache';
import { CrlStore, lookUp } from './crl-client';
import { queryOcsp } from './ocsp-client';
import type { OcspAnswer } from './ocsp-response';
import { CheckSubject, describeSubject, issuerMismatch } from './subject';
import type { RevocationCheckerOptions, RevocationCheckResult } from './types';

const DEFAULTS = {
  timeoutMs: 5000,
  maxOcspResponseBytes: 64 * 1024,
  maxCrlBytes: 64 * 1024 * 1024,
  cacheEntries: 100_000,
};

/** A verified answer: what a result says, and when it was fetched. */
type Answer = Omit<RevocationCheckResult, 'checkedAt'> & { fetchedAt: Date };
type Found = Answer & { cached: boolean };
/** What the OCSP cache keeps (up to 100,000 of them): the verified answer, not its text. */
interface CachedOcsp {
  url: string;
  answer: OcspAnswer;
  fetchedAt: Date;
  nextUpdate?: Date;
}

export class RevocationChecker {
  private readonly timeoutMs: number;
  private readonly maxOcspResponseBytes: number;
  private readonly now: () => Date;
  private readonly ocspAnswers: AnswerCache<CachedOcsp>;
  private readonly crls: CrlStore;
  private hits = 0;
  private misses = 0;

  constructor(options: RevocationCheckerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.maxOcspResponseBytes = options.maxOcspResponseBytes ?? DEFAULTS.maxOcspResponseBytes;
    this.now = options.now ?? (() => new Date());
    this.ocspAnswers = new AnswerCache(options.cacheEntries ?? DEFAULTS.cacheEntries);
    this.crls = new CrlStore({ timeoutMs: this.timeoutMs, maxBytes: options.maxCrlBytes ?? DEFAULTS.maxCrlBytes, now: this.now });
  }

  /**
   * OCSP first (each AIA URL in turn; POST per RFC 6960 with a nonce; the response must be signed
   * by the issuer or by a responder certificate the issuer signed with id-kp-OCSPSigning, match our
   * CertID, be fresh within 5 minutes of skew, and echo our nonce if it carries one), then each CRL
   * URL (signed by the issuer's key, issuer name = the certificate's issuer, not expired). A good or
   * revoked answer from either ends the check; 'unknown' when a verified responder says unknown
   * and no CRL says otherwise; 'unreachable' when nothing answered usably (detail lists each URL's
   * failure). Rejects only when either input is not a DER certificate.
   */
  async check(certificateDer: Buffer, issuerDer: Buffer): Promise<RevocationCheckResult> {
    const subject = describeSubject(certificateDer, issuerDer);
    const checkedAt = this.now();
    const mismatch = issuerMismatch(subject);
    if (mismatch) return { status: 'unknown', source: 'none', checkedAt, detail: `not checked: ${mismatch}` };
    const { ocsp, crl } = subject.urls;
    if (!ocsp.length && !crl.length) {
      return {
        status: 'unknown',
        source: 'none',
        checkedAt,
        detail: 'not checked: the certificate names no OCSP responder (authorityInfoAccess) and no http(s) CRL distribution point',
      };
    }
    const failures: string[] = [];
    const fromOcsp = ocsp.length ? await this.askOcsp(subject, failures) : undefined;
    if (fromOcsp && fromOcsp.status !== 'unknown') return result(fromOcsp, checkedAt, failures);
    for (const url of crl) {
      const fromCrl = await this.askCrl(url, subject, failures);
      if (fromCrl) return result(fromCrl, checkedAt, fromOcsp ? [fromOcsp.detail, ...failures] : failures);
    }
    if (fromOcsp) return result(fromOcsp, checkedAt, failures);
    return {
      status: 'unreachable',
      source: crl.length ? 'crl' : 'ocsp',
      checkedAt,
      detail: `no usable revocation answer: ${failures.join('; ')}`,
    };
  }

  /**
   * Cache sizes and hit counts, for metrics. Hits and misses count cache lookups: one per check
   * for the OCSP answer (when the certificate names a responder), one per CRL URL tried.
   */
  stats(): { ocspCached: number; crlCached: number; hits: number; misses: number } {
    return { ocspCached: this.ocspAnswers.size(this.now()), crlCached: this.crls.size(), hits: this.hits, misses: this.misses };
  }

  private async askOcsp(subject: CheckSubject, failures: string[]): Promise<Found | undefined> {
    const key = `${subject.issuerKeyHash}:${subject.serial}`;
    const cached = this.ocspAnswers.get(key, this.now());
    if (cached) {
      this.hits++;
      return { ...ocspResult(cached.url, cached.answer), fetchedAt: cached.fetchedAt, cached: true };
    }
    this.misses++;
    for (const url of subject.urls.ocsp) {
      const now = this.now();
      try {
        const answer = await queryOcsp(url, subject, { timeoutMs: this.timeoutMs, maxBytes: this.maxOcspResponseBytes, now });
        this.ocspAnswers.set(key, { url, answer, fetchedAt: now, nextUpdate: answer.nextUpdate }, now);
        return { ...ocspResult(url, answer), fetchedAt: now, cached: false };
      } catch (error) {
        failures.push(`OCSP ${url}: ${messageOf(error)}`);
      }
    }
    return undefined;
  }

  private async askCrl(url: string, subject: CheckSubject, failures: string[]): Promise<Found | undefined> {
    let counted = false;
    try {
      const { crl, cached } = await this.crls.get(url, subject);
      if (cached) this.hits++;
      else this.misses++;
      counted = true;
      const found = lookUp(crl, subject);
      const listed = found.status === 'revoked' ? `is on the CRL at ${url}: revoked ${found.revokedAt.toISOString()}${found.reason ? ` (${found.reason})` : ''}` : `is not on the CRL at ${url}`;
      return {
        ...found,
        source: 'crl',
        url,
        nextUpdate: crl.nextUpdate,
        fetchedAt: crl.fetchedAt,
        cached,
        detail: `serial ${subject.serial} ${listed}; CRL of ${crl.revoked.size} ${crl.revoked.size === 1 ? 'entry' : 'entries'}, thisUpdate ${crl.thisUpdate.toISOString()}${crl.nextUpdate ? '' : ', no nextUpdate (not cached)'}`,
      };
    } catch (error) {
      if (!counted) this.misses++;
      failures.push(`CRL ${url}: ${messageOf(error)}`);
      return undefined;
    }
  }
}

function ocspResult(url: string, answer: OcspAnswer): Omit<Answer, 'fetchedAt'> {
  const said =
    answer.status === 'revoked'
      ? `revoked ${answer.revokedAt?.toISOString() ?? ''}${answer.reason ? ` (${answer.reason})` : ''}`.trim()
      : answer.status === 'unknown'
        ? 'unknown (the responder does not know this certificate)'
        : 'good';
  const next = answer.nextUpdate ? `nextUpdate ${answer.nextUpdate.toISOString()}` : 'no nextUpdate (not cached)';
  return {
    status: answer.status,
    ...(answer.revokedAt && { revokedAt: answer.revokedAt }),
    ...(answer.reason && { reason: answer.reason }),
    source: 'ocsp',
    url,
    nextUpdate: answer.nextUpdate,
    detail: `OCSP responder ${url} says ${said}; signed by ${answer.signer}, ${next}`,
  };
}

/** The answer as this check's result: a cached answer says so, earlier failures are appended. */
function result(answer: Found, checkedAt: Date, notes: readonly string[]): RevocationCheckResult {
  const { fetchedAt, cached, detail, ...rest } = answer;
  const note = cached ? ` (cached answer fetched ${fetchedAt.toISOString()})` : '';
  return { ...rest, checkedAt, detail: [`${detail}${note}`, ...notes].join('; ') };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
