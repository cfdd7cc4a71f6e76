// Entry point for one file's bytes: detect the format by content, then hand over to its reader.
//
// Rule for "is this a certificate file": a file is reported (findings or problems) when its content
// is recognisably certificate material (a PEM block with a certificate/PKCS#7/private-key label,
// keystore magic, or DER shaped like a certificate, PKCS#7, PKCS#12 or private key), or when its
// name has a certificate extension (CERTIFICATE_EXTENSIONS). Anything else (notes.txt, config.yaml,
// random binaries) is "not a certificate file": no findings, no problems.
import { extname } from 'node:path';
import { TAG, children, readTlv } from './asn1-reader';
import { buildCertificates } from './certificate-set';
import { keystoreFormat, readKeystore } from './jks';
import { hasPemMarker } from './pem';
import { readPemFile } from './pem-file';
import { looksLikePkcs12, readPkcs12 } from './pkcs12';
import { looksLikePkcs7, pkcs7Certificates } from './pkcs7';
import { KeyInput, readPrivateKey } from './private-key';
import { DiscoveredFileInfo, DiscoveryFormat, DiscoveryProblem, FileReadOptions, FileReadResult } from './types';

export const CERTIFICATE_EXTENSIONS = new Set([
  '.pem', '.crt', '.cer', '.der', '.p12', '.pfx', '.p7b', '.p7c', '.jks', '.jceks', '.keystore', '.truststore', '.key',
]);

export const hasCertificateExtension = (path: string): boolean => CERTIFICATE_EXTENSIONS.has(extname(path).toLowerCase());

const empty = (format: DiscoveryFormat | '' = ''): FileReadResult => ({ isCertificateFile: false, format, certificates: [], privateKeys: [], problems: [] });

export function readCertificateFile(data: Buffer, opts: FileReadOptions): FileReadResult {
  const { path, passwords } = opts;
  const file: DiscoveredFileInfo = opts.file ?? { path, uid: 0, gid: 0, owner: '', group: '', mode: 0, size: BigInt(data.length), modifiedAt: undefined };
  const namedLikeCertificate = hasCertificateExtension(path);
  let result: FileReadResult;
  if (keystoreFormat(data)) result = readKeystore(data, path, passwords, file);
  else if (data.length > 0 && data[0] === TAG.SEQUENCE) result = readDerFile(data, path, passwords, file);
  else if (hasPemMarker(data)) result = readPemFile(data, path, passwords, file);
  else result = empty();
  result.isCertificateFile = result.certificates.length + result.privateKeys.length + result.problems.length > 0;
  if (!result.isCertificateFile && namedLikeCertificate) {
    const reason = data.length === 0 ? 'file is empty' : 'no certificate, private key or keystore found in a file named like one';
    result.problems.push({ path, kind: 'corrupt', reason, format: result.format });
    result.isCertificateFile = true;
  }
  return result;
}

function readDerFile(data: Buffer, path: string, passwords: string[], file: DiscoveredFileInfo): FileReadResult {
  if (looksLikePkcs12(data)) return readPkcs12(data, path, passwords, file);
  const problems: DiscoveryProblem[] = [];
  if (looksLikePkcs7(data)) {
    const result: FileReadResult = { ...empty('pkcs7'), problems };
    try {
      result.certificates = buildCertificates(pkcs7Certificates(data).map((der) => ({ der })), 'pkcs7', path, file, problems);
    } catch (error) {
      problems.push({ path, kind: 'corrupt', reason: `PKCS#7 structure does not decode (${(error as Error).message})`, format: 'pkcs7' });
    }
    return result;
  }
  const shape = derShape(data);
  if (shape === 'certificate') {
    return { ...empty('der'), problems, certificates: buildCertificates([{ der: data }], 'der', path, file, problems) };
  }
  if (shape) {
    const result: FileReadResult = { ...empty('der'), problems };
    const input: KeyInput = shape === 'encrypted-pkcs8' ? { der: data, type: 'pkcs8' } : { der: data, type: shape };
    const outcome = readPrivateKey(input, shape === 'encrypted-pkcs8', passwords, file);
    if (outcome.ok) result.privateKeys.push(outcome.key);
    else problems.push({ path, kind: outcome.kind, reason: outcome.reason, format: 'der' });
    return result;
  }
  return empty();
}

type DerShape = 'certificate' | 'pkcs8' | 'pkcs1' | 'sec1' | 'encrypted-pkcs8' | undefined;

/** Which DER structure the top-level SEQUENCE looks like, from its first children's tags. */
function derShape(data: Buffer): DerShape {
  try {
    const [a, b, c] = children(readTlv(data)).map((t) => t.tag);
    if (a === TAG.SEQUENCE && b === TAG.SEQUENCE && c === TAG.BIT_STRING) return 'certificate';
    if (a === TAG.SEQUENCE && b === TAG.OCTET_STRING && c === undefined) return 'encrypted-pkcs8';
    if (a === TAG.INTEGER && b === TAG.SEQUENCE && c === TAG.OCTET_STRING) return 'pkcs8';
    if (a === TAG.INTEGER && b === TAG.OCTET_STRING) return 'sec1';
    if (a === TAG.INTEGER && b === TAG.INTEGER && c === TAG.INTEGER) return 'pkcs1';
  } catch {
    // not DER at all
  }
  return undefined;
}
