// The data a target installs, the target specs (plain data, as they arrive in a job), and the
// one interface every target kind implements.

/** What an issuance produced, all PEM. */
export interface InstallMaterial {
  certificatePem: string;
  /** Issuing CA certificate(s), nearest first; may be ''. */
  chainPem: string;
  privateKeyPem: string;
}

/** Separate files; `chainPath` requires a non-empty chain. */
export interface PemFilesSpec {
  kind: 'pem-files';
  certPath: string;
  keyPath: string;
  chainPath?: string;
}

/** Certificate followed by its chain in one file (nginx `ssl_certificate`), key apart. */
export interface FullchainPemSpec {
  kind: 'fullchain-pem';
  path: string;
  keyPath: string;
}

/** Certificate, chain, then key in one file (haproxy `crt`). Written as a key file (0600). */
export interface CombinedPemSpec {
  kind: 'combined-pem';
  path: string;
}

/** Password-protected PKCS#12 with key, certificate and chain. `alias` becomes the friendlyName. */
export interface Pkcs12Spec {
  kind: 'pkcs12';
  path: string;
  password: string;
  alias?: string;
}

/**
 * Java keystore (JKS) with one PrivateKeyEntry: key, certificate and chain under `alias` (default
 * "certfleet", stored lowercased as Java does). The key is protected with `keyPassword` (default:
 * the store password). Written as a secret (0600).
 */
export interface JavaKeystoreSpec {
  kind: 'java-keystore';
  path: string;
  storePassword: string;
  alias?: string;
  keyPassword?: string;
}

export type TargetSpec = PemFilesSpec | FullchainPemSpec | CombinedPemSpec | Pkcs12Spec | JavaKeystoreSpec;
export type TargetKind = TargetSpec['kind'];

/** One file to write. `secret` files (anything holding a private key) are never wider than 0600. */
export interface FileWrite {
  path: string;
  data: string | Uint8Array;
  secret: boolean;
}

export interface InstallTarget {
  readonly spec: TargetSpec;
  /** One line for logs and job reports, e.g. "fullchain PEM /etc/nginx/tls/site.pem + key ...". */
  describe(): string;
  /** The files to write for `material` (validated first: parses, key matches certificate). */
  plan(material: InstallMaterial): Promise<FileWrite[]>;
}
