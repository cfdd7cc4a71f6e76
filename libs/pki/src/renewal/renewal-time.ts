// When to renew a certificate: pure arithmetic, no clock. The scheduler (server) and the agent's
// own identity rotation both ask this question.
import { createHash } from 'node:crypto';

export interface RenewalInput {
  notBefore: Date;
  notAfter: Date;
  /** Renew this long before notAfter instead of at 2/3 of the lifetime. */
  renewBeforeMs?: number;
  /** The CRITICAL alert threshold: renewal is always due before a certificate enters it. */
  criticalMs: number;
  /** Stable per certificate (e.g. its id): spreads renewals of certificates issued together. */
  jitterKey: string;
}

/** Share of the lifetime over which renewals of certificates issued at the same time are spread. */
export const JITTER_FRACTION = 1 / 20;

/**
 * The renewal time: at 2/3 of the lifetime (cert-manager's and step-ca's default) or renewBefore
 * ahead of notAfter, never later than the CRITICAL threshold, then moved earlier by a stable
 * per-certificate jitter of up to 1/20 of the lifetime. Never before notBefore.
 */
export function renewalTime(input: RenewalInput): Date {
  const start = input.notBefore.getTime();
  const end = input.notAfter.getTime();
  const lifetime = end - start;
  if (!(lifetime > 0)) return new Date(start); // malformed or zero validity: due at once
  const planned = input.renewBeforeMs !== undefined ? end - input.renewBeforeMs : start + (lifetime * 2) / 3;
  // A certificate shorter than the critical window cannot stay out of it: renew at half-life.
  const latest = end - input.criticalMs > start ? end - input.criticalMs : start + lifetime / 2;
  const due = Math.min(planned, latest) - jitterFraction(input.jitterKey) * lifetime * JITTER_FRACTION;
  return new Date(Math.max(start, Math.round(due)));
}

/** A number in [0, 1) derived from the key, the same on every server replica and every run. */
export function jitterFraction(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}
