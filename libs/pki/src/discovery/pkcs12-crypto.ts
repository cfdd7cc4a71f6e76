// Password-based decryption for PKCS#12 contents with Node's native crypto: PBES2 (PBKDF2 +
// AES/3DES-CBC, OpenSSL 3's default) and the legacy PKCS#12 PBE schemes (RFC 7292 appendix B key
// derivation, which Node does not expose, so it is written here over native SHA-1/SHA-256).
import { createDecipheriv, createHash, createHmac, getCiphers, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { Tlv, children, content, decodeOid, decodeSmallInteger, octets } from './asn1-reader';

/** A password-protected part uses an algorithm this Node/OpenSSL build cannot run. */
export class UnsupportedAlgorithmError extends Error {}

/** null = "no password" (distinct from "" for the PKCS#12 KDF, identical for PBES2). */
export type Password = string | null;

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const PRF_HASHES: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const PKCS12_PBE: Record<string, { name: string; keyLength: number; ivLength: number; label: string }> = {
  '1.2.840.113549.1.12.1.3': { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8, label: 'pbeWithSHAAnd3-KeyTripleDES-CBC' },
  '1.2.840.113549.1.12.1.4': { name: 'des-ede-cbc', keyLength: 16, ivLength: 8, label: 'pbeWithSHAAnd2-KeyTripleDES-CBC' },
  '1.2.840.113549.1.12.1.5': { name: 'rc2-cbc', keyLength: 16, ivLength: 8, label: 'pbeWithSHAAnd128BitRC2-CBC' },
  '1.2.840.113549.1.12.1.6': { name: 'rc2-40-cbc', keyLength: 5, ivLength: 8, label: 'pbeWithSHAAnd40BitRC2-CBC' },
};
const MAC_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const HASH_BLOCK = { sha1: 64, sha224: 64, sha256: 64, sha384: 128, sha512: 128 } as Record<string, number>;
const available = new Set(getCiphers());

/** True for PBES2 (where "no password" and "" are the same bytes). */
export const isPbes2 = (algorithm: Tlv): boolean => decodeOid(children(algorithm)[0]) === PBES2;

/** Why this Node/OpenSSL build cannot decrypt with `algorithm`, or undefined when it can (no KDF run). */
export function unsupportedReason(algorithm: Tlv): string | undefined {
  try {
    const oid = decodeOid(children(algorithm)[0]);
    if (oid === PBES2) {
      const [kdf, scheme] = children(children(algorithm)[1]);
      if (decodeOid(children(kdf)[0]) !== PBKDF2) return `PBES2 key derivation ${decodeOid(children(kdf)[0])} is not supported`;
      const cipher = decodeOid(children(scheme)[0]);
      return PBES2_CIPHERS[cipher] ? undefined : `PBES2 cipher ${cipher} is not supported`;
    }
    const pbe = PKCS12_PBE[oid];
    if (!pbe) return `encryption algorithm ${oid} is not supported`;
    return available.has(pbe.name) ? undefined : `${pbe.label} needs ${pbe.name.toUpperCase()}, which this Node/OpenSSL build does not provide (OpenSSL 3 legacy provider)`;
  } catch {
    return 'malformed encryption algorithm';
  }
}

/** Decrypts with an AlgorithmIdentifier; throws on a wrong password (bad padding) or Unsupported. */
export function pbeDecrypt(algorithm: Tlv, data: Buffer, password: Password): Buffer {
  const unsupported = unsupportedReason(algorithm);
  if (unsupported) throw new UnsupportedAlgorithmError(unsupported);
  const [oidTlv, params] = children(algorithm);
  const oid = decodeOid(oidTlv);
  if (oid === PBES2) {
    const [kdf, scheme] = children(params);
    const [salt, iterations, ...rest] = children(children(kdf)[1]);
    const prf = rest.find((t) => t.tag === 0x30);
    const hash = prf ? PRF_HASHES[decodeOid(children(prf)[0])] : 'sha1';
    if (!hash) throw new UnsupportedAlgorithmError(`PBKDF2 PRF ${decodeOid(children(prf!)[0])} is not supported`);
    const [cipherOid, iv] = children(scheme);
    const cipher = PBES2_CIPHERS[decodeOid(cipherOid)];
    const key = pbkdf2Sync(Buffer.from(password ?? '', 'utf8'), content(salt), decodeSmallInteger(iterations), cipher.keyLength, hash);
    return decipher(cipher.name, key, octets(iv), data);
  }
  const pbe = PKCS12_PBE[oid];
  const [salt, iterations] = children(params);
  const args = [bmpPassword(password), content(salt), decodeSmallInteger(iterations)] as const;
  const key = pkcs12Kdf('sha1', ...args, 1, pbe.keyLength);
  const iv = pkcs12Kdf('sha1', ...args, 2, pbe.ivLength);
  return decipher(pbe.name, key, iv, data);
}

function decipher(name: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const d = createDecipheriv(name, key, iv);
  return Buffer.concat([d.update(data), d.final()]);
}

/** Verifies the PFX MacData (HMAC keyed by the PKCS#12 KDF) over the authenticated-safe bytes. */
export function verifyMac(macData: Tlv, authSafe: Buffer, password: Password): boolean {
  const [digestInfo, salt, iterations] = children(macData);
  const [algorithm, digest] = children(digestInfo);
  const hash = MAC_HASHES[decodeOid(children(algorithm)[0])];
  if (!hash) throw new UnsupportedAlgorithmError(`MAC algorithm ${decodeOid(children(algorithm)[0])} is not supported`);
  const expected = content(digest);
  const rounds = iterations ? decodeSmallInteger(iterations) : 1;
  const key = pkcs12Kdf(hash, bmpPassword(password), content(salt), rounds, 3, expected.length);
  const actual = createHmac(hash, key).update(authSafe).digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** RFC 7292 B.1: BMPString, big-endian, with a two-byte terminator; no password = no bytes. */
function bmpPassword(password: Password): Buffer {
  if (password === null) return Buffer.alloc(0);
  return Buffer.from(`${password}\0`, 'utf16le').swap16();
}

/** RFC 7292 B.2 key derivation. */
function pkcs12Kdf(hash: string, password: Buffer, salt: Buffer, iterations: number, id: number, size: number): Buffer {
  const v = HASH_BLOCK[hash];
  const fill = (src: Buffer) => {
    const out = Buffer.alloc(src.length ? v * Math.ceil(src.length / v) : 0);
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const parts: Buffer[] = [];
  let produced = 0;
  while (produced < size) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    parts.push(A);
    produced += A.length;
    if (produced >= size) break;
    const B = fill(A).subarray(0, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(parts).subarray(0, size);
}
