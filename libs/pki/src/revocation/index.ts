// Revocation for the issuing CA, responder side: RFC 5280 CRLs and RFC 6960 OCSP responses, written
// as DER from pre-encoded parts so revoking and answering stay one signature each.
export { REVOCATION_REASONS, isRevocationReason, revocationReasonCode } from './reasons';
export type { RevocationReason } from './reasons';
export { buildCrl, encodeRevokedEntry } from './crl';
export type { CrlOptions, RevokedEntry } from './crl';
export { OcspRequestError, parseOcspRequest } from './ocsp-request';
export type { OcspCertId, OcspHash, OcspResponseStatus, ParsedOcspRequest } from './ocsp-request';
export { ocspCertIdMatcher } from './ocsp-cert-id';
export { ocspSignerForCa, ocspSignerForDelegate } from './ocsp-signer';
export type { OcspSigner } from './ocsp-signer';
export { issueOcspResponderCertificate } from './responder-certificate';
export type { IssuedResponderCertificate, ResponderCertificateRequest } from './responder-certificate';
export { buildOcspResponse, ocspErrorResponse } from './ocsp-response';
export type { OcspAnswer, OcspCertStatus, OcspSingleAnswer } from './ocsp-response';
