import { generateKeyPairSync } from 'node:crypto';
import { AcmeProblem } from './acme-problem';
import { jwkThumbprint, MAX_JWS_BYTES, parseJws, publicKeyOf, verifyExternalAccountBinding, verifyJwsSignature } from './jws';
import { signEab, signJws, testKey } from './jws-test-kit';

const URL_ = 'http://127.0.0.1:8080/acme/lab/new-account';
const body = (jws: unknown) => Buffer.from(JSON.stringify(jws));
const problem = (fn: () => unknown): AcmeProblem => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AcmeProblem) return err;
    throw err;
  }
  throw new Error('expected an ACME problem');
};

describe('JWS verification', () => {
  it.each(['ES256', 'RS256', 'EdDSA'] as const)('accepts a %s signature by the embedded key', (alg) => {
    const key = testKey(alg);
    const jws = parseJws(body(signJws(key, { nonce: 'n', url: URL_, jwk: key.jwk }, { termsOfServiceAgreed: true })));
    expect(() => verifyJwsSignature(jws, key.jwk)).not.toThrow();
    expect(JSON.parse(jws.payload.toString())).toEqual({ termsOfServiceAgreed: true });
  });

  it('refuses a signature by another key (malformed)', () => {
    const key = testKey();
    const other = testKey();
    const jws = parseJws(body(signJws(other, { nonce: 'n', url: URL_, jwk: key.jwk }, {})));
    expect(problem(() => verifyJwsSignature(jws, key.jwk)).toDocument()).toMatchObject({ type: 'urn:ietf:params:acme:error:malformed', status: 400 });
  });

  it('refuses a tampered payload', () => {
    const key = testKey();
    const signed = signJws(key, { nonce: 'n', url: URL_, jwk: key.jwk }, { contact: ['mailto:a@example.com'] });
    const jws = parseJws(body({ ...signed, payload: Buffer.from('{"contact":["mailto:evil@example.com"]}').toString('base64url') }));
    expect(problem(() => verifyJwsSignature(jws, key.jwk)).type).toBe('malformed');
  });

  it.each([
    ['"none"', 'none'],
    ['HS256 with an account key', 'HS256'],
    ['RS256 with an EC key', 'RS256'],
  ])('refuses alg %s (badSignatureAlgorithm)', (_name, alg) => {
    const key = testKey();
    const signed = signJws(key, { nonce: 'n', url: URL_, jwk: key.jwk }, {});
    const forged = { ...signed, protected: Buffer.from(JSON.stringify({ alg, nonce: 'n', url: URL_, jwk: key.jwk })).toString('base64url') };
    expect(problem(() => verifyJwsSignature(parseJws(body(forged)), key.jwk)).type).toBe('badSignatureAlgorithm');
  });

  it.each([
    ['not JSON', Buffer.from('{nope'), 'malformed'],
    ['an array', Buffer.from('[]'), 'malformed'],
    ['the general serialization', body({ payload: '', signatures: [] }), 'malformed'],
    ['a header without url', body({ protected: Buffer.from('{"alg":"ES256","jwk":{}}').toString('base64url'), payload: '', signature: '' }), 'unauthorized'],
    ['both jwk and kid', body({ protected: Buffer.from('{"alg":"ES256","url":"u","jwk":{},"kid":"k"}').toString('base64url'), payload: '', signature: '' }), 'malformed'],
    ['neither jwk nor kid', body({ protected: Buffer.from('{"alg":"ES256","url":"u"}').toString('base64url'), payload: '', signature: '' }), 'malformed'],
    ['a non-base64url signature', body({ protected: Buffer.from('{"alg":"ES256","url":"u","kid":"k"}').toString('base64url'), payload: '', signature: '+/=' }), 'malformed'],
  ])('refuses %s', (_name, raw, type) => {
    expect(problem(() => parseJws(raw)).type).toBe(type);
  });

  it('refuses an oversized body before parsing it', () => {
    const p = problem(() => parseJws(Buffer.alloc(MAX_JWS_BYTES + 1, 0x20)));
    expect(p.toDocument()).toMatchObject({ type: 'urn:ietf:params:acme:error:malformed', status: 413 });
  });

  it('refuses private keys, small RSA keys and unknown key types (badPublicKey)', () => {
    const key = testKey();
    const priv = key.privateKey.export({ format: 'jwk' });
    expect(problem(() => publicKeyOf(priv)).type).toBe('badPublicKey');
    expect(problem(() => publicKeyOf({ kty: 'oct', k: 'AAAA' })).type).toBe('badPublicKey');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(problem(() => publicKeyOf(small)).message).toMatch(/at least 2048 bits/);
  });

  it('computes the RFC 7638 section 3.1 example thumbprint', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB' })).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('external account binding', () => {
  const hmacKey = Buffer.alloc(32, 7);
  const kid = '6b1f0a44-7b1e-4f44-9d5d-2d1a7e9c0a11';
  const lookup = (k: string) => (k === kid ? hmacKey : null);

  it('accepts the MAC over this account key for the newAccount URL', () => {
    const key = testKey();
    expect(verifyExternalAccountBinding(signEab(kid, hmacKey, URL_, key.jwk), key.jwk, URL_, lookup)).toBe(kid);
  });

  it('refuses an unknown kid, a wrong MAC, another key and another URL (unauthorized)', () => {
    const key = testKey();
    expect(problem(() => verifyExternalAccountBinding(signEab('other', hmacKey, URL_, key.jwk), key.jwk, URL_, lookup)).type).toBe('unauthorized');
    expect(problem(() => verifyExternalAccountBinding(signEab(kid, Buffer.alloc(32, 8), URL_, key.jwk), key.jwk, URL_, lookup)).message).toMatch(/MAC/);
    expect(problem(() => verifyExternalAccountBinding(signEab(kid, hmacKey, URL_, testKey().jwk), key.jwk, URL_, lookup)).message).toMatch(/another account key/);
    expect(problem(() => verifyExternalAccountBinding(signEab(kid, hmacKey, `${URL_}x`, key.jwk), key.jwk, URL_, lookup)).type).toBe('unauthorized');
  });
});
