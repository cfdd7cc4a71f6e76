// RFC 8555 section 6.2 / RFC 7515: flattened JSON JWS with ES256/ES384/ES512, RS256 or EdDSA,
// verified with Node's crypto (keys from JWK). Pure functions: the service does nonces and accounts.
import { createHash, createHmac, createPublicKey, KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { AcmeProblem } from './acme-problem';

export interface Jwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

export interface ProtectedHeader {
  alg: string;
  nonce?: string;
  url: string;
  jwk?: Jwk;
  kid?: string;
}

export interface ParsedJws {
  header: ProtectedHeader;
  protectedB64: string;
  payloadB64: string;
  /** Decoded payload; empty for POST-as-GET. */
  payload: Buffer;
  signature: Buffer;
}

/** Larger than any sensible request (a finalize with an RSA-4096 CSR is ~3 KiB). */
export const MAX_JWS_BYTES = 64 * 1024;

const B64URL = /^[A-Za-z0-9_-]*$/;
const ALGORITHMS: Record<string, { kty: string; crv?: string; hash: string | null }> = {
  ES256: { kty: 'EC', crv: 'P-256', hash: 'sha256' },
  ES384: { kty: 'EC', crv: 'P-384', hash: 'sha384' },
  ES512: { kty: 'EC', crv: 'P-521', hash: 'sha512' },
  RS256: { kty: 'RSA', hash: 'sha256' },
  EdDSA: { kty: 'OKP', hash: null },
};
export const SUPPORTED_ALGORITHMS = Object.keys(ALGORITHMS);

function b64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !B64URL.test(value)) throw new AcmeProblem('malformed', `${what} is not base64url`);
  return Buffer.from(value, 'base64url');
}

/** The JWS in a request body; anything that is not one flattened JWS is malformed. */
export function parseJws(body: Buffer): ParsedJws {
  if (body.length > MAX_JWS_BYTES) throw new AcmeProblem('malformed', `request body over ${MAX_JWS_BYTES} bytes`, 413);
  let outer: Record<string, unknown>;
  try {
    outer = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', 'the body is not JSON');
  }
  if (!outer || typeof outer !== 'object' || Array.isArray(outer)) throw new AcmeProblem('malformed', 'the body is not a JWS object');
  if ('header' in outer || 'signatures' in outer) throw new AcmeProblem('malformed', 'only the flattened JWS serialization with no unprotected header is accepted');
  const protectedB64 = outer.protected;
  const payloadB64 = outer.payload;
  const signature = b64(outer.signature, 'signature');
  let header: ProtectedHeader;
  try {
    header = JSON.parse(b64(protectedB64, 'protected header').toString('utf8'));
  } catch (err) {
    if (err instanceof AcmeProblem) throw err;
    throw new AcmeProblem('malformed', 'the protected header is not JSON');
  }
  if (!header || typeof header !== 'object') throw new AcmeProblem('malformed', 'the protected header is not an object');
  if (typeof header.alg !== 'string') throw new AcmeProblem('malformed', 'the protected header has no "alg"');
  if (typeof header.url !== 'string') throw new AcmeProblem('unauthorized', 'the protected header has no "url"');
  if ((header.jwk === undefined) === (header.kid === undefined)) throw new AcmeProblem('malformed', 'the protected header must have exactly one of "jwk" and "kid"');
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new AcmeProblem('malformed', '"kid" is not a string');
  return { header, protectedB64: protectedB64 as string, payloadB64: payloadB64 as string, payload: b64(payloadB64, 'payload'), signature };
}

/** The payload as a JSON object (POST), or null for POST-as-GET (empty payload). */
export function jsonPayload(jws: ParsedJws): Record<string, unknown> | null {
  if (jws.payloadB64 === '') return null;
  try {
    const value = JSON.parse(jws.payload.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw new AcmeProblem('malformed', 'the payload is not a JSON object');
}

/** The public key of a JWK; only public EC (P-256/384/521), RSA (>= 2048 bits) and Ed25519 keys. */
export function publicKeyOf(jwk: unknown): KeyObject {
  if (!jwk || typeof jwk !== 'object') throw new AcmeProblem('badPublicKey', 'the JWK is not an object');
  const j = jwk as Jwk & { d?: unknown };
  if (j.d !== undefined) throw new AcmeProblem('badPublicKey', 'the JWK contains a private key');
  let key: KeyObject;
  try {
    if (j.kty === 'EC') key = createPublicKey({ key: { kty: 'EC', crv: j.crv, x: j.x, y: j.y }, format: 'jwk' });
    else if (j.kty === 'RSA') key = createPublicKey({ key: { kty: 'RSA', n: j.n, e: j.e }, format: 'jwk' });
    else if (j.kty === 'OKP' && j.crv === 'Ed25519') key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: j.x }, format: 'jwk' });
    else throw new Error(`key type ${String(j.kty)} ${String(j.crv ?? '')}`);
  } catch (err) {
    throw new AcmeProblem('badPublicKey', `unsupported or invalid JWK: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new AcmeProblem('badPublicKey', 'RSA account keys must have at least 2048 bits');
  return key;
}

/** Checks the signature with `jwk`; the algorithm must fit the key. */
export function verifyJwsSignature(jws: ParsedJws, jwk: Jwk): void {
  const spec = ALGORITHMS[jws.header.alg];
  if (!spec) throw new AcmeProblem('badSignatureAlgorithm', `unsupported "alg" ${JSON.stringify(jws.header.alg).slice(0, 40)}; use one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  if (spec.kty !== jwk.kty || (spec.crv && spec.crv !== jwk.crv)) throw new AcmeProblem('badSignatureAlgorithm', `"alg" ${jws.header.alg} does not fit the ${jwk.kty} ${jwk.crv ?? ''} key`);
  const key = publicKeyOf(jwk);
  const input = Buffer.from(`${jws.protectedB64}.${jws.payloadB64}`, 'ascii');
  const ok = spec.kty === 'EC' ? verify(spec.hash, input, { key, dsaEncoding: 'ieee-p1363' }, jws.signature) : verify(spec.hash, input, key, jws.signature);
  if (!ok) throw new AcmeProblem('malformed', 'the JWS signature does not verify');
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public JWK. */
export function jwkThumbprint(jwk: Jwk): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The public members only, as stored for an account. */
export function publicJwk(jwk: Jwk): Jwk {
  publicKeyOf(jwk);
  return jwk.kty === 'EC' ? { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y } : jwk.kty === 'RSA' ? { kty: 'RSA', n: jwk.n, e: jwk.e } : { kty: 'OKP', crv: jwk.crv, x: jwk.x };
}

/**
 * RFC 8555 7.3.4 external account binding: a JWS (HS256/384/512) by the EAB key over the account's
 * JWK, for the newAccount URL. Returns the EAB key id once the MAC verifies.
 */
export function verifyExternalAccountBinding(eab: unknown, accountJwk: Jwk, newAccountUrl: string, hmacKeyFor: (kid: string) => Buffer | null): string {
  const jws = parseJws(Buffer.from(JSON.stringify(eab ?? null)));
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[jws.header.alg];
  if (!hash) throw new AcmeProblem('malformed', 'externalAccountBinding must use HS256, HS384 or HS512');
  if (jws.header.nonce !== undefined) throw new AcmeProblem('malformed', 'externalAccountBinding must not have a nonce');
  if (jws.header.url !== newAccountUrl) throw new AcmeProblem('unauthorized', 'externalAccountBinding "url" is not the newAccount URL');
  if (typeof jws.header.kid !== 'string') throw new AcmeProblem('malformed', 'externalAccountBinding has no "kid"');
  const key = hmacKeyFor(jws.header.kid);
  if (!key) throw new AcmeProblem('unauthorized', 'unknown or already used external account key id');
  const mac = createHmac(hash, key).update(`${jws.protectedB64}.${jws.payloadB64}`).digest();
  if (mac.length !== jws.signature.length || !timingSafeEqual(mac, jws.signature)) throw new AcmeProblem('unauthorized', 'externalAccountBinding MAC does not verify');
  let bound: Jwk;
  try {
    bound = JSON.parse(jws.payload.toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', 'externalAccountBinding payload is not a JWK');
  }
  if (!bound || typeof bound !== 'object' || jwkThumbprint(bound) !== jwkThumbprint(accountJwk)) throw new AcmeProblem('unauthorized', 'externalAccountBinding is for another account key');
  return jws.header.kid;
}
