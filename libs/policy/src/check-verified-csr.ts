// The hot path of issuance: a CSR whose proof of possession was already checked (pki's
// verifyCsrFast) is judged from its facts without parsing it again. Same rules as
// checkCsrAgainstProfile; callers use that one for the detailed reasons when this one says no.
import { checkProfile, keySpecViolations } from './check-profile';
import { STRONG_SIGNATURE_HASHES, type IssuancePolicy } from './issuance-policy';
import { KEY_TYPES, type CertificateProfile, type KeySpec } from './profile';
import { compareSans, profileSans, type SanEntry } from './subject-alt-names';

export interface VerifiedCsrFacts {
  keyAlgorithm: string;
  keySize: number;
  curve?: string;
  /** 'none' for EdDSA. */
  signatureHash: string;
  requestedSans: readonly SanEntry[];
  caRequested: boolean;
}

/** True when the verified CSR meets the profile and the policy exactly; false means "ask checkCsrAgainstProfile why". */
export function verifiedCsrMeetsProfile(csr: VerifiedCsrFacts, profile: CertificateProfile, policy: Readonly<IssuancePolicy>): boolean {
  if (csr.caRequested || checkProfile(profile, policy).length > 0) return false;
  const expected: KeySpec | undefined = KEY_TYPES[profile.keyType];
  if (!expected) return false;
  const actual: KeySpec | undefined =
    csr.keyAlgorithm === 'RSA' ? { algorithm: 'RSA', bits: csr.keySize } : csr.keyAlgorithm === 'EC' && (csr.curve === 'P-256' || csr.curve === 'P-384' || csr.curve === 'P-521') ? { algorithm: 'EC', curve: csr.curve } : undefined;
  if (!actual || keySpecViolations(actual, policy).length > 0) return false;
  if (actual.algorithm === 'RSA' ? expected.algorithm !== 'RSA' || expected.bits !== actual.bits : expected.algorithm !== 'EC' || expected.curve !== actual.curve) return false;
  const allowed = policy.allowedSignatureHashes.filter((h) => STRONG_SIGNATURE_HASHES.includes(h)) as string[];
  if (!allowed.includes(csr.signatureHash)) return false;
  return compareSans(csr.requestedSans, profileSans(profile)).length === 0;
}
