// Sun's proprietary JKS key protection (sun.security.provider.KeyProtector), which every JKS reader
// expects on a PrivateKeyEntry: a SHA-1 keystream seeded by a random 20-byte salt XORed over the
// PKCS#8 DER, followed by SHA-1(password || plain key) as a check value, wrapped in an
// EncryptedPrivateKeyInfo with Sun's OID. It is weak by design (that is the format); the file is
// 0600 and the store password still guards the whole keystore's integrity.
import { createHash, randomBytes } from 'node:crypto';
import { der } from '@certfleet/pki';
import { passwordBytes } from './jks-format';

export const KEY_PROTECTOR_OID = '1.3.6.1.4.1.42.2.17.1.1';
const SALT_LENGTH = 20;
const CHECK_LENGTH = 20;

/** Encrypts a PKCS#8 PrivateKeyInfo DER; returns the EncryptedPrivateKeyInfo DER stored in the keystore. */
export function protectKey(pkcs8Der: Uint8Array, password: string, salt: Uint8Array = randomBytes(SALT_LENGTH)): Buffer {
  if (salt.length !== SALT_LENGTH) throw new RangeError(`JKS key protector salt must be ${SALT_LENGTH} bytes`);
  const pw = passwordBytes(password);
  const encrypted = xor(pkcs8Der, keystream(pw, salt, pkcs8Der.length));
  const check = createHash('sha1').update(pw).update(pkcs8Der).digest();
  // Java's AlgorithmId writes an explicit NULL for this OID, so we do too.
  return der.sequence([der.algorithmIdentifier(KEY_PROTECTOR_OID, der.NULL_VALUE), der.octetString(Buffer.concat([salt, encrypted, check]))]);
}

/** Decrypts what protectKey produced (or Java wrote); throws if the password does not match. */
export function recoverKey(encryptedPrivateKeyInfo: Uint8Array, password: string): Buffer {
  const protectedBytes = protectedOctets(Buffer.from(encryptedPrivateKeyInfo));
  if (protectedBytes.length < SALT_LENGTH + CHECK_LENGTH) throw new Error('protected key is too short');
  const pw = passwordBytes(password);
  const salt = protectedBytes.subarray(0, SALT_LENGTH);
  const encrypted = protectedBytes.subarray(SALT_LENGTH, protectedBytes.length - CHECK_LENGTH);
  const plain = xor(encrypted, keystream(pw, salt, encrypted.length));
  const check = createHash('sha1').update(pw).update(plain).digest();
  if (!check.equals(protectedBytes.subarray(protectedBytes.length - CHECK_LENGTH))) throw new Error('key password does not match');
  return plain;
}

/** digest_0 = salt, digest_i = SHA-1(password || digest_{i-1}); their concatenation, cut to length. */
function keystream(pw: Buffer, salt: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let digest: Uint8Array = salt;
  for (let produced = 0; produced < length; produced += digest.length) {
    digest = createHash('sha1').update(pw).update(digest).digest();
    blocks.push(Buffer.from(digest));
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  return Buffer.from(a.map((byte, i) => byte ^ b[i]));
}

/** The OCTET STRING of SEQUENCE { AlgorithmIdentifier (Sun's OID), OCTET STRING }. */
function protectedOctets(encrypted: Buffer): Buffer {
  const [alg, octets, extra] = der.readChildren(encrypted, der.expectTag(der.readWhole(encrypted), der.TAG.SEQUENCE, 'EncryptedPrivateKeyInfo'));
  const algBytes = der.rawOf(encrypted, der.expectTag(alg, der.TAG.SEQUENCE, 'algorithm'));
  const expectedAlg = der.algorithmIdentifier(KEY_PROTECTOR_OID, der.NULL_VALUE);
  const oidOnly = der.algorithmIdentifier(KEY_PROTECTOR_OID);
  if (!algBytes.equals(expectedAlg) && !algBytes.equals(oidOnly)) throw new Error('private key is not protected with the JKS key protector');
  if (extra) throw new Error('unexpected data in EncryptedPrivateKeyInfo');
  return der.contentOf(encrypted, der.expectTag(octets, der.TAG.OCTET_STRING, 'encrypted key'));
}
