// What a CSR asks for, read without judging it: key, signature hash, SANs, CA flag. `verifyCsr`
// (in @certfleet/pki) refuses weak keys and hashes outright; to name the exact reason we read
// those CSRs leniently here. Reading proves nothing: a CSR is only accepted after `verifyCsr`.
import { createPublicKey, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { MAX_CSR_BYTES, x509, type PemOrDer } from '@certfleet/pki';
import type { EcCurve } from './profile';
import type { SanEntry } from './subject-alt-names';

const SAN_OID = '2.5.29.17';
const BASIC_CONSTRAINTS_OID = '2.5.29.19';
const SAN_KINDS: Record<string, string> = { dns: 'DNS', ip: 'IP', email: 'email', url: 'URI' };
const CURVES: Record<string, EcCurve> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export type CsrKey =
  | { algorithm: 'EC'; curve: EcCurve | string }
  | { algorithm: 'RSA'; bits: number }
  | { algorithm: string };

export interface CsrFacts {
  key: CsrKey;
  /** e.g. "SHA-256"; "none" for Ed25519 (hash built in); undefined when the algorithm is unknown. */
  signatureHash: string | undefined;
  signatureAlgorithm: string;
  sans: SanEntry[];
  caRequested: boolean;
  request: X509.Pkcs10CertificateRequest;
}

export function csrFacts(request: X509.Pkcs10CertificateRequest): CsrFacts {
  const { hash, name } = describeSignature(request);
  return { key: describeKey(request), signatureHash: hash, signatureAlgorithm: name, ...describeExtensions(request), request };
}

/** Parses without policy: any key size, any hash. Throws on input that is not a CSR at all. */
export function readCsrLeniently(input: PemOrDer): X509.Pkcs10CertificateRequest {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > MAX_CSR_BYTES) throw new Error(`too large: ${size} bytes (limit ${MAX_CSR_BYTES})`);
  const source = typeof input === 'string' ? input.replace(/NEW CERTIFICATE REQUEST/g, 'CERTIFICATE REQUEST') : Buffer.from(input);
  return new (x509.Pkcs10CertificateRequest)(source);
}

/** Proof of possession for a leniently read CSR; false when it cannot be checked. */
export async function signatureVerifies(request: X509.Pkcs10CertificateRequest): Promise<boolean> {
  try {
    return await request.verify(webcrypto);
  } catch {
    return false;
  }
}

function describeKey(request: X509.Pkcs10CertificateRequest): CsrKey {
  try {
    const key = createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === 'rsa') return { algorithm: 'RSA', bits: details.modulusLength ?? 0 };
    if (key.asymmetricKeyType === 'ec') return { algorithm: 'EC', curve: CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? 'explicit parameters' };
    return { algorithm: key.asymmetricKeyType ?? 'unknown' };
  } catch {
    return { algorithm: 'unreadable' };
  }
}

function describeSignature(request: X509.Pkcs10CertificateRequest): { hash: string | undefined; name: string } {
  try {
    const algorithm = request.signatureAlgorithm as { name: string; hash?: { name: string } };
    if (algorithm.name === 'Ed25519' || algorithm.name === 'Ed448') return { hash: 'none', name: algorithm.name };
    const hash = algorithm.hash?.name;
    return { hash, name: `${algorithm.name} with ${hash ?? 'unknown hash'}` };
  } catch {
    return { hash: undefined, name: 'an unsupported signature algorithm' };
  }
}

function describeExtensions(request: X509.Pkcs10CertificateRequest): { sans: SanEntry[]; caRequested: boolean } {
  const sans: SanEntry[] = [];
  let caRequested = false;
  for (const extension of request.extensions) {
    if (extension.type === SAN_OID) {
      for (const name of (extension as X509.SubjectAlternativeNameExtension).names.items) {
        sans.push({ kind: SAN_KINDS[name.type] ?? name.type, value: name.value });
      }
    } else if (extension.type === BASIC_CONSTRAINTS_OID) {
      caRequested ||= (extension as X509.BasicConstraintsExtension).ca === true;
    }
  }
  return { sans, caRequested };
}
