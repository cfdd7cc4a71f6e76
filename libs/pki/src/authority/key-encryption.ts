// CA private keys at rest: AES-256-GCM in a one-line, versioned envelope
//   cfk1.<key id>.<iv>.<ciphertext+tag>   (base64url fields; key id = hex)
// The version and key id are authenticated as associated data, so neither can be swapped. The key
// id (an HMAC of a fixed label, not the key) lets a wrong key be reported as such, not as tampering.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { KeyDecryptionError } from './errors';

const VERSION = 'cfk1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function assertKeyMaterial(keyMaterial: Buffer): void {
  if (!Buffer.isBuffer(keyMaterial) || keyMaterial.length !== 32) {
    throw new Error(`key material must be 32 bytes, got ${Buffer.isBuffer(keyMaterial) ? keyMaterial.length : typeof keyMaterial}`);
  }
}

/** Short public identifier of a wrapping key, stored in each envelope. */
export function keyMaterialId(keyMaterial: Buffer): string {
  assertKeyMaterial(keyMaterial);
  return createHmac('sha256', keyMaterial).update('certfleet key id v1').digest('hex').slice(0, 16);
}

export function encryptPrivateKey(pem: string, keyMaterial: Buffer): string {
  const header = `${VERSION}.${keyMaterialId(keyMaterial)}`;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyMaterial, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(header, 'utf8'));
  const sealed = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${header}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

export function decryptPrivateKey(blob: string, keyMaterial: Buffer): string {
  const fields = blob.trim().split('.');
  if (fields[0] !== VERSION) {
    throw new KeyDecryptionError(`not an encrypted certfleet key (expected "${VERSION}." envelope, got "${fields[0].slice(0, 16)}")`);
  }
  if (fields.length !== 4) throw new KeyDecryptionError(`malformed ${VERSION} envelope: expected 4 fields, got ${fields.length}`);
  const [, storedKeyId, ivText, sealedText] = fields;
  const keyId = keyMaterialId(keyMaterial);
  if (storedKeyId !== keyId) {
    throw new KeyDecryptionError(`wrong key: data was encrypted with key id ${storedKeyId}, this key is ${keyId}`);
  }
  const iv = Buffer.from(ivText, 'base64url');
  const sealed = Buffer.from(sealedText, 'base64url');
  if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) throw new KeyDecryptionError(`malformed ${VERSION} envelope: bad IV or ciphertext length`);
  const decipher = createDecipheriv('aes-256-gcm', keyMaterial, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(`${VERSION}.${storedKeyId}`, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyDecryptionError('authentication failed: the encrypted key was modified or corrupted');
  }
}
