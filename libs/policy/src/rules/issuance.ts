// Blocking issuance: the certificate a managed profile would produce, judged by the fleet policy's
// rules that have blockIssuance. The issuer builds the certificate from the profile, so the facts
// come from the profile (key type, names, validity from now) plus what the caller knows (the issuing
// CA's signature algorithm, the CSR key's SPKI hash for key reuse).
import { KEY_TYPES, type CertificateProfile } from '../profile';
import type { CompiledPolicy, EvaluationContext } from './evaluate';
import type { CertificateFacts, PolicyFinding } from './types';

const DAY_MS = 86_400_000;

export interface IssuanceInput {
  profile: CertificateProfile;
  /** When the certificate will start (the issuer's notBefore); defaults to now. */
  notBefore?: Date;
  /** The issuing CA's signature algorithm, e.g. ecdsa-with-SHA256; unknown: not judged. */
  signatureAlgorithm?: string;
  /** SHA-256 of the CSR's SubjectPublicKeyInfo; with context.keyUse, refuses a key already in use. */
  publicKeySha256?: string;
  issuer?: string;
}

export function issuanceFacts(input: IssuanceInput): CertificateFacts {
  const notBefore = input.notBefore ?? new Date();
  const spec = KEY_TYPES[input.profile.keyType];
  return {
    fingerprintSha256: '',
    issuer: input.issuer ?? '',
    keyAlgorithm: spec?.algorithm ?? input.profile.keyType,
    keySize: spec ? (spec.algorithm === 'RSA' ? spec.bits : Number(spec.curve.slice(2))) : 0,
    keyCurve: spec?.algorithm === 'EC' ? spec.curve : '',
    signatureAlgorithm: input.signatureAlgorithm ?? '',
    notBefore,
    notAfter: new Date(notBefore.getTime() + input.profile.validityDays * DAY_MS),
    dnsNames: input.profile.dnsNames,
    ipAddresses: input.profile.ipAddresses,
    isCa: false,
    selfSigned: false,
    publicKeySha256: input.publicKeySha256 ?? '',
  };
}

/** Findings of blocking rules for this issuance: empty means the fleet policy lets it through. */
export function issuanceBlockers(policy: CompiledPolicy, input: IssuanceInput, context: EvaluationContext = {}): PolicyFinding[] {
  return policy.evaluateCertificate(issuanceFacts(input), context).filter((f) => f.blockIssuance);
}
