// @certfleet/policy: rules a certificate or CSR must meet; returns violations, never throws.
export type { Violation, ViolationCode } from './violation';
export type { CertificateProfile, CertificateUsage, ProfileKeyType, EcCurve, KeySpec } from './profile';
export { KEY_TYPES } from './profile';
export type { IssuancePolicy, SignatureHash } from './issuance-policy';
export { DEFAULT_ISSUANCE_POLICY, STRONG_SIGNATURE_HASHES } from './issuance-policy';
export { checkProfile } from './check-profile';
export { checkCsrAgainstProfile } from './check-csr';
export { verifiedCsrMeetsProfile } from './check-verified-csr';
export type { VerifiedCsrFacts } from './check-verified-csr';
export { canonicalDnsName, dnsNameMatches, isValidDnsName } from './dns-names';
export { canonicalIpAddress } from './ip-address';
export * from './rules';
