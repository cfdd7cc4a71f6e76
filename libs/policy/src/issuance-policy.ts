// Issuance policy is data (from config or the database); the checks interpret it. Weak hashes
// cannot be allowed: the type has no room for them and the checks ignore them if untyped data
// smuggles one in.
import type { EcCurve, ProfileKeyType } from './profile';

export type SignatureHash = 'SHA-256' | 'SHA-384' | 'SHA-512';
export const STRONG_SIGNATURE_HASHES: readonly SignatureHash[] = ['SHA-256', 'SHA-384', 'SHA-512'];

export interface IssuancePolicy {
  /** Validity ceiling for any profile. */
  maxValidityDays: number;
  allowedKeyTypes: ProfileKeyType[];
  minRsaBits: number;
  allowedCurves: EcCurve[];
  allowedSignatureHashes: SignatureHash[];
  allowWildcards: boolean;
  /**
   * DNS names a profile may contain. `example.com` matches itself only; `*.example.com` matches
   * one label below example.com (and the wildcard name itself); `.example.com` matches any name
   * below example.com. Absent or empty: every name is allowed (subject to the deny list).
   */
  dnsNameAllow?: string[];
  /** Same pattern syntax; a deny match wins over an allow match. */
  dnsNameDeny?: string[];
}

export const DEFAULT_ISSUANCE_POLICY: Readonly<IssuancePolicy> = Object.freeze<IssuancePolicy>({
  maxValidityDays: 398, // CA/Browser Forum ceiling for publicly trusted TLS certificates
  allowedKeyTypes: ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'],
  minRsaBits: 2048,
  allowedCurves: ['P-256', 'P-384'],
  allowedSignatureHashes: [...STRONG_SIGNATURE_HASHES],
  allowWildcards: false,
});
