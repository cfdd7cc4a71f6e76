// Public shapes of the revocation checker (re-exported from index.ts; the server is written
// against these names).

export type RevocationStatus = 'good' | 'revoked' | 'unknown' | 'unreachable';

export interface RevocationCheckResult {
  status: RevocationStatus;
  /** RFC 5280 CRLReason name (e.g. 'keyCompromise') when revoked and known. */
  reason?: string;
  revokedAt?: Date;
  /** Where the answer came from; 'none' when the certificate names no OCSP or CRL URL (or the issuer given is not its issuer). For 'unreachable': 'crl' when CRL URLs were tried last, else 'ocsp'. */
  source: 'ocsp' | 'crl' | 'none';
  url?: string;
  /** When this check ran (a cached answer says so, with its fetch time, in `detail`). */
  checkedAt: Date;
  /** Until when the answer may be reused (OCSP nextUpdate / CRL nextUpdate); undefined when it must be asked again next time. */
  nextUpdate?: Date;
  /** One line a person can act on: why unknown/unreachable (timeout, HTTP 500, bad signature, responder said unauthorized, ...), or what was checked. */
  detail: string;
}

export interface RevocationUrls {
  ocsp: string[];
  crl: string[];
  caIssuers: string[];
}

export interface RevocationCheckerOptions {
  /** Per URL fetch, redirects included; default 5000. */
  timeoutMs?: number;
  /** Default 64 KiB. */
  maxOcspResponseBytes?: number;
  /** Default 64 MiB. */
  maxCrlBytes?: number;
  /** For tests (fake clock). */
  now?: () => Date;
  /** Bound on cached OCSP answers, default 100,000 (oldest dropped). */
  cacheEntries?: number;
}
