// The issuing CA's fast path: end-entity certificates for managed certificates, built as DER and
// signed with Node's synchronous crypto; and a CSR proof-of-possession check to match.
export { loadIssuingCa } from './issuing-ca';
export type { IssuingCa, IssuingCaMaterial, LoadIssuingCaOptions, RevocationUrlsForLeaves, IssuingCaKeyType, IssuingCaSignatureAlgorithm } from './issuing-ca';
export { issueLeafCertificate } from './leaf-certificate';
export type { LeafRequest, IssuedLeaf } from './leaf-certificate';
export { LeafRequestError, LEAF_USAGES } from './leaf-profile';
export type { LeafProfile, LeafUsage } from './leaf-profile';
export { verifyCsrFast } from './csr-fast';
export type { FastVerifiedCsr, RequestedSan, CsrSignatureHash } from './csr-fast';
