// SHA-256 certificate fingerprints in the two spellings operators meet: lowercase hex for storage
// and comparison, colon-separated uppercase for what the server prints and humans paste.
import { createHash } from 'node:crypto';
import { decodeSinglePemOrDer, PemOrDer } from './pem';

/** SHA-256 over the certificate's DER, lowercase hex without separators. */
export function sha256Fingerprint(pemOrDer: PemOrDer): string {
  const der = decodeSinglePemOrDer(pemOrDer, ['CERTIFICATE']);
  return createHash('sha256').update(der).digest('hex');
}

/** `ab01..` → `AB:01:..` (what `openssl x509 -fingerprint -sha256` prints after the `=`). */
export function formatFingerprint(hex: string): string {
  const normalised = normaliseFingerprint(hex);
  return normalised.toUpperCase().match(/../g)!.join(':');
}

/**
 * Accepts a SHA-256 fingerprint as 64 hex digits or 32 colon-separated pairs, any case, optionally
 * prefixed `sha256:` / `SHA256:` / `sha256=`, and returns lowercase hex. Throws on anything else.
 */
export function normaliseFingerprint(input: string): string {
  const body = input.trim().replace(/^sha-?256\s*[:=]\s*/i, '');
  const hex = /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/i.test(body) ? body.replace(/:/g, '') : body;
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new Error(
      `not a SHA-256 fingerprint: expected 64 hex digits or 32 colon-separated pairs, got "${input.slice(0, 120)}"`,
    );
  }
  return hex.toLowerCase();
}
