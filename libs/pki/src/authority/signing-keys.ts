// Key generation and import for the CA side. Keys travel as PKCS#8 PEM (what OpenSSL and Node
// read); WebCrypto CryptoKeys are made only at the moment of signing.
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { CaMaterialError } from './errors';
import { toPem } from './pem';
import { CryptoKey, CryptoKeyPair, EcdsaParams, webcrypto } from './x509-runtime';

const P256 = { name: 'ECDSA', namedCurve: 'P-256' };

// ECDSA curves a CA key may use, with the hash that matches the curve's strength.
const EC_SIGNING: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
};

export interface GeneratedKeyPair {
  keys: CryptoKeyPair;
  privateKeyPem: string;
}

export async function generateP256KeyPair(): Promise<GeneratedKeyPair> {
  const keys = (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, privateKeyPem: toPem(pkcs8, 'PRIVATE KEY') };
}

export interface SigningKey {
  privateKey: CryptoKey;
  signingAlgorithm: EcdsaParams;
  /** DER SubjectPublicKeyInfo of the matching public key, to check it against a certificate. */
  publicKeySpki: Buffer;
}

/** Imports a CA private key (PKCS#8 or SEC1 PEM) for signing; only ECDSA P-256/P-384 CA keys. */
export async function importSigningKey(privateKeyPem: string): Promise<SigningKey> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new CaMaterialError(`cannot read the CA private key: ${(error as Error).message}`);
  }
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  const params = keyObject.asymmetricKeyType === 'ec' && curve ? EC_SIGNING[curve] : undefined;
  if (!params) {
    throw new CaMaterialError(`unsupported CA key type ${keyObject.asymmetricKeyType} ${curve ?? ''}`.trim());
  }
  const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: params.namedCurve }, false, ['sign']);
  const publicKeySpki = createPublicKey(keyObject).export({ format: 'der', type: 'spki' });
  return { privateKey, signingAlgorithm: { name: 'ECDSA', hash: params.hash }, publicKeySpki };
}
