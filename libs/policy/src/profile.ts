// The part of a managed certificate's profile that issuance checks look at. The issuer builds the
// certificate from the profile, never from what a CSR asks for.

export type ProfileKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
export type CertificateUsage = 'tls-server' | 'tls-client' | 'code-signing';

export interface CertificateProfile {
  keyType: ProfileKeyType;
  dnsNames: string[];
  ipAddresses: string[];
  emails?: string[];
  uris?: string[];
  /** Must be one of the DNS names or IP addresses when set. */
  commonName?: string;
  validityDays: number;
  usages: CertificateUsage[];
}

export type EcCurve = 'P-256' | 'P-384' | 'P-521';

/** What a profile key type means: EC with a curve, or RSA with a modulus size. */
export type KeySpec = { algorithm: 'EC'; curve: EcCurve } | { algorithm: 'RSA'; bits: number };

export const KEY_TYPES: Readonly<Record<ProfileKeyType, KeySpec>> = {
  'ec-p256': { algorithm: 'EC', curve: 'P-256' },
  'ec-p384': { algorithm: 'EC', curve: 'P-384' },
  'rsa-2048': { algorithm: 'RSA', bits: 2048 },
  'rsa-3072': { algorithm: 'RSA', bits: 3072 },
  'rsa-4096': { algorithm: 'RSA', bits: 4096 },
};
