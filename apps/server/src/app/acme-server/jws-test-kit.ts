// For specs only: an ACME client's side of JWS (RFC 7515 flattened JSON), with node:crypto.
import { createHmac, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import type { Jwk } from './jws';

export interface TestKey {
  alg: 'ES256' | 'RS256' | 'EdDSA';
  privateKey: KeyObject;
  jwk: Jwk;
}

export function testKey(alg: TestKey['alg'] = 'ES256'): TestKey {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return { alg, privateKey: pair.privateKey, jwk: pair.publicKey.export({ format: 'jwk' }) as Jwk };
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A flattened JWS; `payload` null makes a POST-as-GET (empty payload). */
export function signJws(key: TestKey, header: Record<string, unknown>, payload: unknown): { protected: string; payload: string; signature: string } {
  const protectedB64 = b64({ alg: key.alg, ...header });
  const payloadB64 = payload === null ? '' : b64(payload);
  const input = Buffer.from(`${protectedB64}.${payloadB64}`);
  const signature = key.alg === 'ES256' ? sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }) : key.alg === 'RS256' ? sign('sha256', input, key.privateKey) : sign(null, input, key.privateKey);
  return { protected: protectedB64, payload: payloadB64, signature: signature.toString('base64url') };
}

/** RFC 8555 7.3.4: the EAB JWS over the account key. */
export function signEab(kid: string, hmacKey: Buffer, url: string, accountJwk: Jwk): { protected: string; payload: string; signature: string } {
  const protectedB64 = b64({ alg: 'HS256', kid, url });
  const payloadB64 = b64(accountJwk);
  return { protected: protectedB64, payload: payloadB64, signature: createHmac('sha256', hmacKey).update(`${protectedB64}.${payloadB64}`).digest('base64url') };
}
