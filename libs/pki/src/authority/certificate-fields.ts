// Values every certificate the fleet CA issues shares: serial numbers and validity windows.
import { randomBytes } from 'node:crypto';

/** Backdating notBefore tolerates hosts whose clocks run a little behind the server's. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * 16 random bytes as hex, forced positive (top bit clear) and with a non-zero first byte so the
 * DER INTEGER is exactly 16 bytes (RFC 5280: positive, at most 20 octets; CA/B: >= 64 random bits).
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0] & 0x7f || 0x01;
  return bytes.toString('hex');
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** notBefore = now - skew; notAfter = now + lifetime, clamped to `notLaterThan` when given. */
export function validityFromNow(lifetimeMs: number, now: Date, notLaterThan?: Date): Validity {
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) throw new Error(`validity must be a positive duration, got ${lifetimeMs} ms`);
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  let notAfter = new Date(now.getTime() + lifetimeMs);
  if (notLaterThan && notAfter > notLaterThan) notAfter = new Date(notLaterThan.getTime());
  // X.509 times have one-second precision; keep the returned Date equal to what is encoded.
  notAfter.setUTCMilliseconds(0);
  notBefore.setUTCMilliseconds(0);
  return { notBefore, notAfter };
}

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
