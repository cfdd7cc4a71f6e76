// Writes a JKS keystore (version 2) holding one PrivateKeyEntry, the layout Java's
// sun.security.provider.JavaKeyStore.engineStore produces: magic, version, entry count, then per
// entry tag, alias, creation time, protected key and certificate chain, then the integrity digest.
// No maintained npm package writes JKS (the ones there only read it), hence this file.
import {
  CERTIFICATE_TYPE,
  JKS_MAGIC,
  JKS_VERSION,
  PRIVATE_KEY_ENTRY,
  encodeModifiedUtf8,
  integrityDigest,
} from './jks-format';
import { protectKey } from './key-protector';

export interface JksPrivateKeyEntry {
  /** Stored lowercased: Java's JKS looks aliases up in lower case, so a mixed-case one could not be found. */
  alias: string;
  createdAt: Date;
  /** Unencrypted PKCS#8 PrivateKeyInfo DER. */
  privateKeyPkcs8Der: Uint8Array;
  /** DER certificates, the key's own certificate first, then its issuers nearest first. */
  chainDer: readonly Uint8Array[];
  keyPassword: string;
}

export function buildJks(entry: JksPrivateKeyEntry, storePassword: string): Buffer {
  if (entry.chainDer.length === 0) throw new Error('a JKS private key entry needs at least its own certificate');
  const out = new DataOutput();
  out.u32(JKS_MAGIC);
  out.u32(JKS_VERSION);
  out.u32(1);
  out.u32(PRIVATE_KEY_ENTRY);
  out.utf(jksAlias(entry.alias));
  out.u64(entry.createdAt.getTime());
  out.sized(protectKey(entry.privateKeyPkcs8Der, entry.keyPassword));
  out.u32(entry.chainDer.length);
  for (const der of entry.chainDer) {
    out.utf(CERTIFICATE_TYPE);
    out.sized(der);
  }
  const body = out.bytes();
  return Buffer.concat([body, integrityDigest(body, storePassword)]);
}

/** The alias as JKS stores it (Java lowercases with Locale.ENGLISH; for ASCII that is the same). */
export const jksAlias = (alias: string): string => alias.toLowerCase();

/** The subset of java.io.DataOutputStream the format uses. */
class DataOutput {
  private readonly parts: Buffer[] = [];

  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    this.parts.push(b);
  }

  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(value));
    this.parts.push(b);
  }

  /** writeUTF: 16-bit length, then modified UTF-8. */
  utf(text: string): void {
    const encoded = encodeModifiedUtf8(text);
    if (encoded.length > 0xffff) throw new RangeError('JKS string longer than 65535 bytes');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(encoded.length);
    this.parts.push(length, encoded);
  }

  /** 32-bit length, then the bytes (protected keys and certificates). */
  sized(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.parts.push(Buffer.from(bytes));
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
