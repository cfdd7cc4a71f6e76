// Revocation checking of certificates from any CA: OCSP (RFC 6960) with CRL (RFC 5280) fallback.
export type { RevocationStatus, RevocationCheckResult, RevocationUrls, RevocationCheckerOptions } from './types';
export { revocationUrls } from './urls';
export { RevocationChecker } from './checker';
