// Algorithm, size and curve of a key, read from Node's KeyObject details.
import { KeyObject, hash } from 'node:crypto';
import { CURVE_BITS, CURVE_NAMES } from './oids';

export interface KeyInfo {
  keyAlgorithm: string;
  /** RSA/DSA modulus bits, EC curve bits, 256 for Ed25519/X25519, 456 for Ed448, 448 for X448. */
  keySize: number;
  /** P-256/P-384/P-521 for NIST curves, otherwise OpenSSL's curve name (secp256k1, ...). */
  keyCurve: string;
}

const ALGORITHMS: Record<string, string> = {
  rsa: 'RSA',
  'rsa-pss': 'RSASSA-PSS',
  ec: 'EC',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
  dsa: 'DSA',
  dh: 'DH',
};
const FIXED_SIZES: Record<string, number> = { ed25519: 256, x25519: 256, ed448: 456, x448: 448 };

export function describeKey(key: KeyObject): KeyInfo {
  const type = key.asymmetricKeyType ?? '';
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve ?? '';
  return {
    keyAlgorithm: ALGORITHMS[type] ?? type,
    keySize: details.modulusLength ?? CURVE_BITS[curve] ?? FIXED_SIZES[type] ?? 0,
    keyCurve: CURVE_NAMES[curve] ?? curve,
  };
}

export const sha256Hex = (data: Buffer): string => hash('sha256', data, 'hex');
