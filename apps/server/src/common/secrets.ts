import { createHash, randomBytes } from 'node:crypto';

/** A random bearer secret with a readable prefix (e.g. "cfa_" admin, "cfe_" enrollment). */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Only hashes of secrets are stored; 256 random bits need no slow hash. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
