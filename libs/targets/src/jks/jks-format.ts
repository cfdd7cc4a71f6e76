// The JKS container's constants and the two encodings it borrows from Java: passwords as a char[]
// (UTF-16 code units, big-endian, no terminator) and DataOutput.writeUTF strings (modified UTF-8).
// Shared by the writer and the reader so both sides agree byte for byte.
import { createHash } from 'node:crypto';

export const JKS_MAGIC = 0xfeedfeed;
export const JKS_VERSION = 2;
export const PRIVATE_KEY_ENTRY = 1;
export const TRUSTED_CERT_ENTRY = 2;
export const CERTIFICATE_TYPE = 'X.509';
export const DIGEST_LENGTH = 20;

/** A Java char[] password as the bytes JKS hashes: each UTF-16 code unit big-endian. */
export const passwordBytes = (password: string): Buffer => Buffer.from(password, 'utf16le').swap16();

/** The keystore integrity digest: SHA-1(password || "Mighty Aphrodite" || every byte before it). */
export function integrityDigest(body: Uint8Array, storePassword: string): Buffer {
  return createHash('sha1').update(passwordBytes(storePassword)).update('Mighty Aphrodite', 'utf8').update(body).digest();
}

/**
 * Java's modified UTF-8 (DataOutput.writeUTF, without the length prefix): U+0000 takes two bytes
 * and each surrogate of a pair is encoded on its own, so aliases Java wrote and ours compare equal.
 */
export function encodeModifiedUtf8(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 0x01 && c <= 0x7f) bytes.push(c);
    else if (c <= 0x7ff) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Buffer.from(bytes);
}

export function decodeModifiedUtf8(bytes: Uint8Array): string {
  const units: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const width = b < 0x80 ? 1 : (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : 0;
    if (width === 0 || i + width > bytes.length) throw new Error('alias is not modified UTF-8');
    if (width === 1) units.push(b);
    else if (width === 2) units.push(((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f));
    else units.push(((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f));
    i += width;
  }
  return String.fromCharCode(...units);
}
