// Turns the certificates found in one file into findings: parse each, then work out self-signature
// and chain facts across the file. A certificate that does not parse becomes a problem.
import { chainFacts } from './chain';
import { ParsedCertificate, parseCertificate } from './describe';
import { DiscoveredCertificate, DiscoveredFileInfo, DiscoveryFormat, DiscoveryProblem } from './types';

export interface CertificateEntry {
  der: Buffer;
  /** Keystore alias or friendly name; the position in the file is used when absent. */
  entry?: string;
}

export function buildCertificates(
  entries: CertificateEntry[],
  format: DiscoveryFormat,
  path: string,
  file: DiscoveredFileInfo | undefined,
  problems: DiscoveryProblem[],
): DiscoveredCertificate[] {
  const parsed: { cert: ParsedCertificate; entry: string }[] = [];
  entries.forEach((item, position) => {
    const entry = item.entry ?? String(position);
    try {
      parsed.push({ cert: parseCertificate(item.der), entry });
    } catch (error) {
      const reason = `certificate ${entry} does not decode as X.509 (${(error as Error).message})`;
      problems.push({ path, kind: 'corrupt', reason, format });
    }
  });
  const facts = chainFacts(parsed.map((p) => p.cert));
  // One literal with every field (no spreads): the finding keeps all its properties in-object.
  return parsed.map(({ cert: { fields: f }, entry }, i) => ({
    file,
    entry,
    format,
    fingerprintSha256: f.fingerprintSha256,
    subject: f.subject,
    issuer: f.issuer,
    serial: f.serial,
    dnsNames: f.dnsNames,
    ipAddresses: f.ipAddresses,
    emails: f.emails,
    uris: f.uris,
    notBefore: f.notBefore,
    notAfter: f.notAfter,
    keyAlgorithm: f.keyAlgorithm,
    keySize: f.keySize,
    keyCurve: f.keyCurve,
    signatureAlgorithm: f.signatureAlgorithm,
    isCa: f.isCa,
    selfSigned: facts[i].selfSigned,
    chainComplete: facts[i].chainComplete,
    chainLength: facts[i].chainLength,
    subjectKeyId: f.subjectKeyId,
    authorityKeyId: f.authorityKeyId,
    pairedKey: undefined,
    der: f.der,
    publicKeySha256: f.publicKeySha256,
  }));
}
