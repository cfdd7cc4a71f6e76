// Fleet policy as data: a list of rules with parameters, a scope, a severity and whether a violation
// blocks issuance of managed certificates. Evaluated over precomputed facts, never over raw DER.

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** Which certificates a rule looks at. Every given selector must match; absent selectors match all. */
export interface RuleScope {
  /** 'leaf' (not a CA), 'ca', or 'any' (default). */
  certificates?: 'leaf' | 'ca' | 'any';
  /** DNS name patterns (see dnsNameMatches); matches when any SAN matches any pattern. */
  dnsNames?: string[];
  /** Case-insensitive substrings of the issuer DN. */
  issuers?: string[];
  /** Host names (inventory) exactly. */
  hosts?: string[];
  /** Path prefixes on the host. */
  paths?: string[];
}

/** One CA/Browser Forum style step: from this notBefore date (UTC, YYYY-MM-DD) on, at most `days`. */
export interface ValidityStep {
  from: string;
  days: number;
}

export type RuleSpec =
  | { type: 'min-rsa-bits'; bits: number }
  | { type: 'allowed-curves'; curves: string[] }
  | { type: 'forbidden-signature-hashes'; hashes: string[] }
  | { type: 'max-validity'; days?: number; schedule?: ValidityStep[] }
  | { type: 'require-san' }
  | { type: 'no-wildcards' }
  | { type: 'key-reuse' }
  | { type: 'self-signed'; allowed?: RuleScope }
  | { type: 'min-tls-version'; version: TlsVersion };

export type RuleType = RuleSpec['type'];

export type PolicyRule = RuleSpec & {
  /** Stable id shown in findings, unique in the policy. */
  id: string;
  severity: Severity;
  /** A violation refuses issuance of a managed certificate (rules that apply to issuance only). */
  blockIssuance?: boolean;
  scope?: RuleScope;
};

export interface FleetPolicy {
  name: string;
  rules: PolicyRule[];
}

export type TlsVersion = 'SSLv3' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * What the rules need to know about one certificate, computed once (from discovery's report or
 * from the DER). Field names follow discovery's CertificateFinding.
 */
export interface CertificateFacts {
  fingerprintSha256: string;
  issuer: string;
  /** RSA | EC | Ed25519 | Ed448 | DSA | ... */
  keyAlgorithm: string;
  keySize: number;
  /** P-256 | P-384 | P-521 | other OpenSSL curve names; '' for non-EC keys. */
  keyCurve: string;
  /** e.g. sha256WithRSAEncryption, ecdsa-with-SHA1, Ed25519, or a dotted OID when unknown. */
  signatureAlgorithm: string;
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  isCa: boolean;
  selfSigned: boolean;
  /** SHA-256 of the SubjectPublicKeyInfo DER; '' when unknown (key reuse is then not judged). */
  publicKeySha256: string;
  /** Where it was found, for scopes; absent for a certificate about to be issued. */
  host?: string;
  path?: string;
}

/** A TLS endpoint as probed: the protocol versions it accepted. */
export interface EndpointFacts {
  host?: string;
  address: string;
  acceptedVersions: readonly TlsVersion[];
}

export interface PolicyFinding {
  ruleId: string;
  rule: RuleType;
  severity: Severity;
  blockIssuance: boolean;
  message: string;
}
