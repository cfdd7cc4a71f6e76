// Java keystores: JKS (magic 0xFEEDFEED) and JCEKS (0xCECECECE). Certificates, including the chains
// of private-key entries, are stored in clear, so they are read without the password. The keyed
// SHA-1 digest at the end is checked against the configured passwords: a match proves integrity.
// Private keys are reported from their entry's certificate (the keystore binds the two), without
// decrypting the proprietary key protection.
import { createHash } from 'node:crypto';
import { buildCertificates, CertificateEntry } from './certificate-set';
import { DiscoveredFileInfo, DiscoveredPrivateKey, DiscoveryFormat, DiscoveryProblem, FileReadResult } from './types';

export const JKS_MAGIC = 0xfeedfeed;
export const JCEKS_MAGIC = 0xcececece;
const DIGEST_LENGTH = 20;

export function keystoreFormat(data: Buffer): 'jks' | 'jceks' | undefined {
  if (data.length < 4) return undefined;
  const magic = data.readUInt32BE(0);
  return magic === JKS_MAGIC ? 'jks' : magic === JCEKS_MAGIC ? 'jceks' : undefined;
}

class Cursor {
  constructor(private readonly data: Buffer, public pos = 0) {}
  private need(n: number) {
    if (this.pos + n > this.data.length - DIGEST_LENGTH) throw new Error('keystore is truncated');
  }
  u32(): number {
    this.need(4);
    return this.data.readUInt32BE((this.pos += 4) - 4);
  }
  bytes(n: number): Buffer {
    this.need(n);
    return this.data.subarray(this.pos, (this.pos += n));
  }
  utf(): string {
    this.need(2);
    const length = this.data.readUInt16BE(this.pos);
    this.pos += 2;
    return this.bytes(length).toString('utf8'); // Java modified UTF-8; same as UTF-8 for aliases
  }
}

export function readKeystore(data: Buffer, path: string, passwords: string[], file: DiscoveredFileInfo | undefined): FileReadResult {
  const format: DiscoveryFormat = keystoreFormat(data) ?? 'jks';
  const problems: DiscoveryProblem[] = [];
  const result: FileReadResult = { isCertificateFile: true, format, certificates: [], privateKeys: [], problems };
  const entries: CertificateEntry[] = [];
  const keyAliases: string[] = []; // private-key entries whose chain was read completely
  const cursor = new Cursor(data, 4);
  try {
    const version = cursor.u32();
    if (version !== 1 && version !== 2) throw new Error(`unknown keystore version ${version}`);
    const count = cursor.u32();
    const readCert = () => {
      if (version === 2) cursor.utf(); // certificate type, "X.509"
      return cursor.bytes(cursor.u32());
    };
    for (let i = 0; i < count; i++) {
      const tag = cursor.u32();
      const alias = cursor.utf();
      cursor.bytes(8); // creation time
      if (tag === 1) {
        cursor.bytes(cursor.u32()); // protected private key
        const chainLength = cursor.u32();
        for (let n = 0; n < chainLength; n++) entries.push({ der: readCert(), entry: n === 0 ? alias : `${alias}#${n}` });
        keyAliases.push(alias);
      } else if (tag === 2) {
        entries.push({ der: readCert(), entry: alias });
      } else {
        // JCEKS secret-key entries are serialised Java objects with no length prefix: stop here.
        problems.push({ path, kind: 'unsupported', reason: `keystore entry "${alias}" is a secret key; entries after it were not read`, format });
        break;
      }
    }
    if (problems.length === 0 && cursor.pos !== data.length - DIGEST_LENGTH) throw new Error('unexpected data after the last entry');
    result.integrityVerified = problems.length === 0 && passwords.some((pw) => digestMatches(data, cursor.pos, pw));
  } catch (error) {
    problems.push({ path, kind: 'corrupt', reason: `${format.toUpperCase()} keystore does not decode (${(error as Error).message})`, format });
  }
  result.certificates = buildCertificates(entries, format, path, file, problems);
  const byEntry = new Map(result.certificates.map((c) => [c.entry, c]));
  for (const alias of keyAliases) {
    const cert = byEntry.get(alias);
    if (cert) result.privateKeys.push(keyFromCertificate(cert, file));
  }
  return result;
}

function keyFromCertificate(cert: { keyAlgorithm: string; keySize: number; keyCurve: string; publicKeySha256: string }, file: DiscoveredFileInfo | undefined): DiscoveredPrivateKey {
  const { keyAlgorithm, keySize, keyCurve, publicKeySha256 } = cert;
  return { file, keyAlgorithm, keySize, keyCurve, encrypted: true, publicKeySha256, paired: false };
}

/** SHA-1(password as UTF-16BE || "Mighty Aphrodite" || keystore bytes) == stored digest. */
function digestMatches(data: Buffer, end: number, password: string): boolean {
  const digest = createHash('sha1')
    .update(Buffer.from(password, 'utf16le').swap16())
    .update('Mighty Aphrodite', 'utf8')
    .update(data.subarray(0, end))
    .digest();
  return digest.equals(data.subarray(end, end + DIGEST_LENGTH));
}
