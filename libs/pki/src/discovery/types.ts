// Result types of discovery. Field names and types match the generated certfleet.agent.v1 messages
// (CertificateFinding, PrivateKeyFinding, Problem, FileInfo, PairedKey) so a finding can be assigned
// to them directly; libs/pki does not import the proto library.

/** Container format a finding came from. */
export type DiscoveryFormat = 'pem' | 'der' | 'pkcs7' | 'pkcs12' | 'jks' | 'jceks';

/** Problem kinds: the parsers report locked | corrupt | unsupported; the walker adds the rest. */
export type DiscoveryProblemKind =
  | 'locked'
  | 'corrupt'
  | 'unsupported'
  | 'too_large'
  | 'unreadable'
  | 'symlink_loop';

export interface DiscoveredFileInfo {
  path: string;
  uid: number;
  gid: number;
  /** user name, '' when not resolvable */
  owner: string;
  /** group name, '' when not resolvable */
  group: string;
  /** permission bits (mode & 0o7777) */
  mode: number;
  size: bigint;
  modifiedAt: Date | undefined;
}

export interface DiscoveredPairedKey {
  path: string;
  mode: number;
  owner: string;
  sameFile: boolean;
}

export interface DiscoveredCertificate {
  file: DiscoveredFileInfo | undefined;
  /**
   * "0", "1", ... by position in the file. Java keystores: the alias, "<alias>#<n>" for the n-th
   * certificate of a key entry's chain. PKCS#12: "<position>:<friendlyName>" (names need not be unique).
   */
  entry: string;
  format: DiscoveryFormat;
  /** SHA-256 of the DER, lowercase hex without separators. */
  fingerprintSha256: string;
  /** RFC 4514 order (most specific first), e.g. "CN=www.example.com, O=Example, C=US". */
  subject: string;
  issuer: string;
  /**
   * Lowercase hex of the DER INTEGER bytes, minus the single 00 byte DER adds when the top bit is
   * set (so it equals what OpenSSL prints); other bytes, even non-canonical zeros, are kept.
   */
  serial: string;
  dnsNames: string[];
  ipAddresses: string[];
  emails: string[];
  uris: string[];
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  /** RSA | RSASSA-PSS | EC | Ed25519 | Ed448 | DSA | X25519 | X448 */
  keyAlgorithm: string;
  keySize: number;
  keyCurve: string;
  signatureAlgorithm: string;
  isCa: boolean;
  selfSigned: boolean;
  chainComplete: boolean;
  chainLength: number;
  subjectKeyId: string;
  authorityKeyId: string;
  pairedKey: DiscoveredPairedKey | undefined;
  der: Buffer;
  /** SHA-256 of the SubjectPublicKeyInfo DER; not in the proto, used to pair keys and certificates. */
  publicKeySha256: string;
}

export interface DiscoveredPrivateKey {
  file: DiscoveredFileInfo | undefined;
  keyAlgorithm: string;
  keySize: number;
  keyCurve: string;
  encrypted: boolean;
  /** SHA-256 of the public key's SubjectPublicKeyInfo DER; '' when encrypted and no password fits. */
  publicKeySha256: string;
  paired: boolean;
}

export interface DiscoveryProblem {
  path: string;
  kind: DiscoveryProblemKind;
  reason: string;
  /** The format discovery believed the file to be ('' when unknown). */
  format: string;
}

export interface FileReadOptions {
  path: string;
  /** Passwords to try on PKCS#12, encrypted keys and keystores, after "none" and "". */
  passwords: string[];
  /** Attached to each finding; when absent a FileInfo carrying only the path is used. */
  file?: DiscoveredFileInfo;
}

export interface FileReadResult {
  /** false when the file is simply not certificate material (then all lists are empty). */
  isCertificateFile: boolean;
  /** Detected container format, '' when none was recognised. */
  format: DiscoveryFormat | '';
  certificates: DiscoveredCertificate[];
  privateKeys: DiscoveredPrivateKey[];
  problems: DiscoveryProblem[];
  /** Java keystores only: the keyed integrity digest matched one of the configured passwords. */
  integrityVerified?: boolean;
}
