// The server's check of an agent's CSR for a managed certificate: the profile must still satisfy
// the policy, and the CSR must prove possession of its key, use exactly the profiled key type, ask
// for exactly the profiled names and be signed with an allowed hash. Anything else the CSR asks for
// (subject, extensions) is ignored because the issuer builds the certificate from the profile, except
// a request to be a CA, which is reported as a sign of misuse.
import { CsrRejectedError, verifyCsr, type PemOrDer } from '@certfleet/pki';
import { checkProfile, keySpecViolations } from './check-profile';
import { csrFacts, readCsrLeniently, signatureVerifies, type CsrFacts, type CsrKey } from './csr-facts';
import { STRONG_SIGNATURE_HASHES, type IssuancePolicy } from './issuance-policy';
import { KEY_TYPES, type CertificateProfile, type KeySpec } from './profile';
import { compareSans, profileSans } from './subject-alt-names';
import { violation, type Violation, type ViolationCode } from './violation';

/** Codes that explain why `verifyCsr` refused a CSR that could still be read. */
const CSR_INTRINSIC: ReadonlySet<ViolationCode> = new Set(['csr-signature-invalid', 'key-type-mismatch', 'rsa-too-small', 'curve-not-allowed', 'weak-signature']);

export async function checkCsrAgainstProfile(csr: PemOrDer, profile: CertificateProfile, policy: Readonly<IssuancePolicy>): Promise<Violation[]> {
  const found = checkProfile(profile, policy);
  let facts: CsrFacts;
  let rejection: string | undefined;
  try {
    facts = csrFacts((await verifyCsr(csr)).request);
  } catch (error) {
    rejection = error instanceof CsrRejectedError ? error.reason : String((error as Error)?.message ?? error);
    try {
      facts = csrFacts(readCsrLeniently(csr));
    } catch {
      return [...found, violation('csr-unreadable', `the CSR cannot be read: ${rejection}`)];
    }
  }
  const csrFound = [...keyViolations(facts.key, profile, policy), ...signatureViolations(facts, policy)];
  if (rejection !== undefined) {
    // verifyCsr refused: say why as precisely as we can, and never let such a CSR pass.
    if (!(await signatureVerifies(facts.request))) {
      csrFound.unshift(violation('csr-signature-invalid', `the CSR signature does not verify with its own public key (no proof of possession): ${rejection}`));
    }
    if (!csrFound.some((v) => CSR_INTRINSIC.has(v.code))) csrFound.push(violation('csr-rejected', `the CSR was refused: ${rejection}`));
  }
  csrFound.push(...compareSans(facts.sans, profileSans(profile)));
  if (facts.caRequested) csrFound.push(violation('ca-requested', 'the CSR asks for a CA certificate (basicConstraints CA:TRUE); managed certificates are never CAs'));
  return [...found, ...csrFound];
}

function keyViolations(key: CsrKey, profile: CertificateProfile, policy: Readonly<IssuancePolicy>): Violation[] {
  const actual = keySpecOf(key);
  if (actual) {
    const weak = keySpecViolations(actual, policy);
    if (weak.length > 0) return weak.map((v) => ({ ...v, message: `the CSR's ${v.message}` }));
  }
  const expected: KeySpec | undefined = KEY_TYPES[profile.keyType];
  if (!actual || !expected || !sameKey(actual, expected)) {
    return [violation('key-type-mismatch', `the CSR key is ${describe(key)} but the profile requires ${profile.keyType}`)];
  }
  return [];
}

function signatureViolations(facts: CsrFacts, policy: Readonly<IssuancePolicy>): Violation[] {
  const hash = facts.signatureHash;
  if (hash === 'none') return []; // EdDSA: no separate hash; the key check decides
  const allowed = policy.allowedSignatureHashes.filter((h) => STRONG_SIGNATURE_HASHES.includes(h));
  if (hash !== undefined && (allowed as string[]).includes(hash)) return [];
  return [violation('weak-signature', `the CSR is signed with ${facts.signatureAlgorithm}; allowed hashes: ${allowed.join(', ') || 'none'}`)];
}

function keySpecOf(key: CsrKey): KeySpec | undefined {
  if (key.algorithm === 'RSA' && 'bits' in key) return { algorithm: 'RSA', bits: key.bits };
  if (key.algorithm === 'EC' && 'curve' in key && (key.curve === 'P-256' || key.curve === 'P-384' || key.curve === 'P-521')) return { algorithm: 'EC', curve: key.curve };
  return undefined;
}

function sameKey(a: KeySpec, b: KeySpec): boolean {
  return a.algorithm === 'RSA' ? b.algorithm === 'RSA' && a.bits === b.bits : b.algorithm === 'EC' && a.curve === b.curve;
}

function describe(key: CsrKey): string {
  if ('bits' in key) return `RSA ${key.bits} bits`;
  if ('curve' in key) return `EC ${key.curve}`;
  return key.algorithm;
}
