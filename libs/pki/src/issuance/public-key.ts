// SubjectPublicKeyInfo read by hand: the algorithm, size and key bits (for the SKI) without asking
// OpenSSL, whose SPKI decoder costs ~150 µs a key on Node 20 / OpenSSL 3.0 (more than signing a
// certificate). Key policy and messages are those of authority/csr.ts.
import { createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';
import { bitStringBytes, contentOf, DerError, expectTag, objectIdentifier, oidToString, readChildren, readWhole, TAG } from '../der/der';

export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;

export type SpkiCurve = 'P-256' | 'P-384' | 'P-521';

export interface SpkiKey {
  keyAlgorithm: 'EC' | 'RSA' | 'Ed25519';
  /** RSA modulus bits, EC curve bits, 256 for Ed25519. */
  keySize: number;
  curve?: SpkiCurve;
  /** The subjectPublicKey BIT STRING's bytes: what a key identifier hashes. */
  publicKeyBits: Buffer;
  /** RSA modulus and exponent magnitudes (no sign byte). */
  rsa?: { modulus: Buffer; exponent: Buffer };
}

/** The public key is unreadable or not allowed; `reason` is safe to show. */
export class SpkiError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SpkiError';
  }
}

const oidContent = (dotted: string) => objectIdentifier(dotted).subarray(2);
const RSA_ENCRYPTION = oidContent('1.2.840.113549.1.1.1');
const EC_PUBLIC_KEY = oidContent('1.2.840.10045.2.1');
const ED25519 = oidContent('1.3.101.112');
const CURVES: { oid: Buffer; curve: SpkiCurve; bits: number; fieldBytes: number }[] = [
  { oid: oidContent('1.2.840.10045.3.1.7'), curve: 'P-256', bits: 256, fieldBytes: 32 },
  { oid: oidContent('1.3.132.0.34'), curve: 'P-384', bits: 384, fieldBytes: 48 },
  { oid: oidContent('1.3.132.0.35'), curve: 'P-521', bits: 521, fieldBytes: 66 },
];
// Names for messages only, in the spelling Node/OpenSSL use.
const KEY_TYPE_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.10': 'rsa-pss',
  '1.2.840.10040.4.1': 'dsa',
  '1.2.840.10046.2.1': 'dh',
  '1.3.101.110': 'x25519',
  '1.3.101.111': 'x448',
  '1.3.101.113': 'ed448',
};
const CURVE_NAMES: Record<string, string> = {
  '1.3.132.0.10': 'secp256k1',
  '1.2.840.10045.3.1.1': 'prime192v1',
  '1.3.132.0.33': 'secp224r1',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
};
const NULL_PARAMS = Buffer.from([TAG.NULL, 0]);

/** Reads and checks a DER SubjectPublicKeyInfo. Throws SpkiError. */
export function readSpki(spki: Buffer): SpkiKey {
  try {
    return readSpkiUnchecked(spki);
  } catch (error) {
    if (error instanceof SpkiError) throw error;
    throw new SpkiError(`unreadable public key: ${(error as Error).message}`);
  }
}

function readSpkiUnchecked(spki: Buffer): SpkiKey {
  if (!Buffer.isBuffer(spki)) throw new SpkiError('unreadable public key: expected DER bytes in a Buffer');
  const [algorithm, key, ...extra] = readChildren(spki, expectTag(readWhole(spki), TAG.SEQUENCE, 'SubjectPublicKeyInfo'));
  if (extra.length) throw new DerError('extra fields in SubjectPublicKeyInfo');
  const [oid, params, ...more] = readChildren(spki, expectTag(algorithm, TAG.SEQUENCE, 'algorithm'));
  if (more.length) throw new DerError('extra fields in the key algorithm');
  const algorithmOid = contentOf(spki, expectTag(oid, TAG.OID, 'key algorithm'));
  const bits = bitStringBytes(spki, key, 'subjectPublicKey');

  if (algorithmOid.equals(RSA_ENCRYPTION)) {
    if (params && !spki.subarray(params.start, params.end).equals(NULL_PARAMS)) throw new DerError('RSA key parameters must be NULL');
    const rsa = readRsaPublicKey(bits);
    const size = bitLength(rsa.modulus);
    if (size < RSA_MIN_BITS) throw new SpkiError(`RSA key too small: ${size} bits (minimum ${RSA_MIN_BITS})`);
    if (size > RSA_MAX_BITS) throw new SpkiError(`RSA key too large: ${size} bits (maximum ${RSA_MAX_BITS})`);
    const exponent = BigInt(`0x${rsa.exponent.toString('hex') || '0'}`);
    if (exponent < 3n || exponent % 2n === 0n) throw new SpkiError(`RSA public exponent ${exponent} is invalid`);
    if ((rsa.modulus[rsa.modulus.length - 1] & 1) === 0) throw new DerError('the RSA modulus is even');
    return { keyAlgorithm: 'RSA', keySize: size, publicKeyBits: bits, rsa };
  }
  if (algorithmOid.equals(EC_PUBLIC_KEY)) {
    if (!params || params.tag !== TAG.OID) throw new SpkiError('unsupported EC curve (explicit parameters): use P-256, P-384 or P-521');
    const curveOid = contentOf(spki, params);
    const curve = CURVES.find((c) => c.oid.equals(curveOid));
    if (!curve) {
      const dotted = oidToString(curveOid);
      throw new SpkiError(`unsupported EC curve ${CURVE_NAMES[dotted] ?? dotted}: use P-256, P-384 or P-521`);
    }
    const form = bits[0];
    const expected = form === 0x04 ? 1 + 2 * curve.fieldBytes : form === 0x02 || form === 0x03 ? 1 + curve.fieldBytes : -1;
    if (bits.length !== expected) throw new DerError(`not a ${curve.curve} point`);
    return { keyAlgorithm: 'EC', keySize: curve.bits, curve: curve.curve, publicKeyBits: bits };
  }
  if (algorithmOid.equals(ED25519)) {
    if (params) throw new DerError('Ed25519 keys take no parameters');
    if (bits.length !== 32) throw new DerError('an Ed25519 key is 32 bytes');
    return { keyAlgorithm: 'Ed25519', keySize: 256, publicKeyBits: bits };
  }
  const dotted = oidToString(algorithmOid);
  throw new SpkiError(`unsupported key type ${KEY_TYPE_NAMES[dotted] ?? dotted}: use EC P-256/P-384/P-521, RSA 2048-8192 or Ed25519`);
}

function readRsaPublicKey(bits: Buffer): { modulus: Buffer; exponent: Buffer } {
  const [n, e, ...extra] = readChildren(bits, expectTag(readWhole(bits), TAG.SEQUENCE, 'RSAPublicKey'));
  if (extra.length) throw new DerError('extra fields in RSAPublicKey');
  return { modulus: positiveInteger(bits, n, 'modulus'), exponent: positiveInteger(bits, e, 'publicExponent') };
}

function positiveInteger(data: Buffer, node: ReturnType<typeof readWhole> | undefined, what: string): Buffer {
  const content = contentOf(data, expectTag(node, TAG.INTEGER, what));
  if (content.length === 0) throw new DerError(`empty ${what}`);
  if (content[0] & 0x80) throw new DerError(`negative ${what}`);
  if (content.length > 1 && content[0] === 0 && !(content[1] & 0x80)) throw new DerError(`non-minimal ${what}`);
  return content[0] === 0 ? content.subarray(1) : content;
}

function bitLength(magnitude: Buffer): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]));
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/**
 * A KeyObject for verifying with the key. P-256, RSA and Ed25519 keys go in as JWK, which Node
 * imports without OpenSSL's generic decoder (P-256 ~85 µs instead of ~170 µs, RSA ~10 µs instead
 * of ~150 µs; the EC point is still fully validated); P-384/P-521 and compressed points go in as
 * SPKI, where the JWK path is slower (its full key check costs ~570 µs on P-384).
 */
export function importPublicKey(spki: Buffer, key: SpkiKey): KeyObject {
  let jwk: JsonWebKey | undefined;
  if (key.keyAlgorithm === 'RSA' && key.rsa) {
    jwk = { kty: 'RSA', n: base64url(key.rsa.modulus), e: base64url(key.rsa.exponent) };
  } else if (key.curve === 'P-256' && key.publicKeyBits[0] === 0x04) {
    jwk = { kty: 'EC', crv: 'P-256', x: base64url(key.publicKeyBits.subarray(1, 33)), y: base64url(key.publicKeyBits.subarray(33, 65)) };
  } else if (key.keyAlgorithm === 'Ed25519') {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: base64url(key.publicKeyBits) };
  }
  try {
    return jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (error) {
    throw new SpkiError(`unreadable public key: ${(error as Error).message}`);
  }
}
