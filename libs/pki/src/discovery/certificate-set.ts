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
  return parsed.map(({ cert, entry }, i) => ({
    file,
    entry,
    format,
    ...cert.fields,
    ...facts[i],
    pairedKey: undefined,
  }));
}
