// PKCS#10 CSRs arrive from agents and are untrusted: bound the size before parsing, accept one
// object only, allow a short list of key types, and check proof of possession before issuing.
import { createPublicKey, KeyObject } from 'node:crypto';
import { CsrRejectedError } from './errors';
import { decodeSinglePemOrDer, PemOrDer } from './pem';
import { webcrypto, x509, X509 } from './x509-runtime';

export const MAX_CSR_BYTES = 16 * 1024;
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 8192;
const CURVES: Record<string, { name: CsrCurve; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};
const ALLOWED_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

export type CsrKeyAlgorithm = 'EC' | 'RSA' | 'Ed25519';
export type CsrCurve = 'P-256' | 'P-384' | 'P-521';

export interface ParsedCsr {
  /** The CSR itself, DER. */
  der: Buffer;
  /** DER SubjectPublicKeyInfo: what the issued certificate will certify. */
  publicKeySpki: Buffer;
  keyAlgorithm: CsrKeyAlgorithm;
  /** RSA modulus bits, EC curve bits, 256 for Ed25519. */
  keySize: number;
  curve?: CsrCurve;
  /** e.g. "ECDSA with SHA-256", "RSA-PSS with SHA-384", "Ed25519". */
  signatureAlgorithm: string;
  /** Subject as the agent wrote it: informational only, never copied into a certificate. */
  requestedSubject: string;
  /** The parsed request, for callers that need more detail. */
  request: X509.Pkcs10CertificateRequest;
}

/**
 * Parses a CSR and checks its form and key policy. Does NOT check the signature: use `verifyCsr`
 * before acting on it. Throws `CsrRejectedError` with the reason.
 */
export function parseCsr(input: PemOrDer): ParsedCsr {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input?.byteLength;
  if (typeof size !== 'number') throw new CsrRejectedError('expected a PEM string or DER bytes');
  if (size > MAX_CSR_BYTES) throw new CsrRejectedError(`too large: ${size} bytes (limit ${MAX_CSR_BYTES})`);
  let der: Buffer;
  let request: X509.Pkcs10CertificateRequest;
  try {
    der = decodeSinglePemOrDer(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
    request = new x509.Pkcs10CertificateRequest(der);
  } catch (error) {
    throw new CsrRejectedError(`not a PKCS#10 certificate request: ${(error as Error).message}`);
  }
  const publicKeySpki = Buffer.from(request.publicKey.rawData);
  return { der, publicKeySpki, ...describeKey(publicKeySpki), signatureAlgorithm: describeSignature(request), requestedSubject: request.subject, request };
}

/** `parseCsr` plus proof of possession: the CSR's signature must verify with its own key. */
export async function verifyCsr(input: PemOrDer): Promise<ParsedCsr> {
  const parsed = parseCsr(input);
  let valid: boolean;
  try {
    valid = await parsed.request.verify(webcrypto);
  } catch (error) {
    throw new CsrRejectedError(`signature cannot be checked: ${(error as Error).message}`);
  }
  if (!valid) throw new CsrRejectedError('signature does not verify with the CSR public key (no proof of possession)');
  return parsed;
}

function describeKey(spki: Buffer): Pick<ParsedCsr, 'keyAlgorithm' | 'keySize' | 'curve'> {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (error) {
    throw new CsrRejectedError(`unreadable public key: ${(error as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < RSA_MIN_BITS) throw new CsrRejectedError(`RSA key too small: ${bits} bits (minimum ${RSA_MIN_BITS})`);
      if (bits > RSA_MAX_BITS) throw new CsrRejectedError(`RSA key too large: ${bits} bits (maximum ${RSA_MAX_BITS})`);
      const exponent = details.publicExponent ?? 0n;
      if (exponent < 3n || exponent % 2n === 0n) throw new CsrRejectedError(`RSA public exponent ${exponent} is invalid`);
      return { keyAlgorithm: 'RSA', keySize: bits };
    }
    case 'ec': {
      const curve = CURVES[details.namedCurve ?? ''];
      if (!curve) throw new CsrRejectedError(`unsupported EC curve ${details.namedCurve ?? '(explicit parameters)'}: use P-256, P-384 or P-521`);
      return { keyAlgorithm: 'EC', keySize: curve.bits, curve: curve.name };
    }
    case 'ed25519':
      return { keyAlgorithm: 'Ed25519', keySize: 256 };
    default:
      throw new CsrRejectedError(`unsupported key type ${key.asymmetricKeyType}: use EC P-256/P-384/P-521, RSA 2048-8192 or Ed25519`);
  }
}

function describeSignature(request: X509.Pkcs10CertificateRequest): string {
  let algorithm: { name: string; hash?: { name: string } };
  try {
    algorithm = request.signatureAlgorithm as typeof algorithm;
  } catch (error) {
    throw new CsrRejectedError(`unsupported signature algorithm: ${(error as Error).message}`);
  }
  if (algorithm.name === 'Ed25519') return 'Ed25519';
  const hash = algorithm.hash?.name ?? 'none';
  if (!ALLOWED_HASHES.has(hash)) throw new CsrRejectedError(`signature hash ${hash} is not allowed: use SHA-256, SHA-384 or SHA-512`);
  return `${algorithm.name} with ${hash}`;
}
