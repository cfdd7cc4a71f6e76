// What an end-entity certificate says, as the server decides it (from a managed certificate's
// profile, never from what a CSR asks for).

export type LeafUsage = 'tls-server' | 'tls-client' | 'code-signing';

export interface LeafProfile {
  /** Optional: without it the subject is empty and the subjectAltName extension is critical. */
  commonName?: string;
  organization?: string;
  dnsNames: string[];
  /** IPv4 or IPv6, any spelling `net.isIP` accepts (no zone id). */
  ipAddresses: string[];
  emails?: string[];
  uris?: string[];
  /** Positive; the certificate never outlives the issuing CA (notAfter is clamped). */
  validityDays: number;
  usages: LeafUsage[];
}

/** extendedKeyUsage purposes (RFC 5280 4.2.1.12). */
export const USAGE_OIDS: Readonly<Record<LeafUsage, string>> = {
  'tls-server': '1.3.6.1.5.5.7.3.1',
  'tls-client': '1.3.6.1.5.5.7.3.2',
  'code-signing': '1.3.6.1.5.5.7.3.3',
};
export const LEAF_USAGES = Object.keys(USAGE_OIDS) as LeafUsage[];

/** The issuance request is invalid (bad name, validity, usage, serial or public key); `reason` is safe to show. */
export class LeafRequestError extends Error {
  constructor(readonly reason: string) {
    super(`certificate request refused: ${reason}`);
    this.name = 'LeafRequestError';
  }
}
