// Reads back a JKS keystore with its store password (integrity digest checked first). The target
// uses it to keep a keystore that already holds exactly the entry it would write: a fresh write
// differs in every byte (random salt, new date), which would otherwise replace the backup of the
// real previous version with a copy of the current one on every re-run of the same job.
import {
  CERTIFICATE_TYPE,
  DIGEST_LENGTH,
  JKS_MAGIC,
  PRIVATE_KEY_ENTRY,
  TRUSTED_CERT_ENTRY,
  decodeModifiedUtf8,
  integrityDigest,
} from './jks-format';

export type JksEntry =
  | { kind: 'private-key'; alias: string; createdAt: Date; protectedKey: Buffer; chainDer: Buffer[] }
  | { kind: 'trusted-certificate'; alias: string; createdAt: Date; certificateDer: Buffer };

/** Parses a version 1 or 2 JKS file; throws if it is malformed or the store password is wrong. */
export function readJks(data: Buffer, storePassword: string): JksEntry[] {
  if (data.length < 12 + DIGEST_LENGTH || data.readUInt32BE(0) !== JKS_MAGIC) throw new Error('not a JKS keystore');
  const body = data.subarray(0, data.length - DIGEST_LENGTH);
  if (!integrityDigest(body, storePassword).equals(data.subarray(body.length))) {
    throw new Error('keystore integrity check failed (wrong store password or altered file)');
  }
  const input = new DataInput(body, 4);
  const version = input.u32();
  if (version !== 1 && version !== 2) throw new Error(`unknown JKS version ${version}`);
  const certificate = () => {
    if (version === 2 && input.utf() !== CERTIFICATE_TYPE) throw new Error('only X.509 certificates are supported');
    return input.sized();
  };
  const entries: JksEntry[] = [];
  for (let count = input.u32(); count > 0; count -= 1) {
    const tag = input.u32();
    const alias = input.utf();
    const createdAt = new Date(input.u64());
    if (tag === PRIVATE_KEY_ENTRY) {
      const protectedKey = input.sized();
      const chainDer = Array.from({ length: input.u32() }, certificate);
      entries.push({ kind: 'private-key', alias, createdAt, protectedKey, chainDer });
    } else if (tag === TRUSTED_CERT_ENTRY) {
      entries.push({ kind: 'trusted-certificate', alias, createdAt, certificateDer: certificate() });
    } else {
      throw new Error(`unknown JKS entry tag ${tag}`);
    }
  }
  if (input.pos !== body.length) throw new Error('unexpected data after the last entry');
  return entries;
}

/** The subset of java.io.DataInputStream the format uses, bounds-checked. */
class DataInput {
  constructor(private readonly data: Buffer, public pos: number) {}

  private take(n: number): Buffer {
    if (this.pos + n > this.data.length) throw new Error('keystore is truncated');
    return this.data.subarray(this.pos, (this.pos += n));
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  u64(): number {
    return Number(this.take(8).readBigInt64BE(0));
  }

  utf(): string {
    return decodeModifiedUtf8(this.take(this.take(2).readUInt16BE(0)));
  }

  sized(): Buffer {
    return this.take(this.u32());
  }
}
