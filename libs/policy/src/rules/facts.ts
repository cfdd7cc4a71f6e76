// Facts from a certificate's DER, through discovery's own parser (one parse, no X509Certificate),
// for certificates whose report lacks a fact (the SPKI hash is not in the agent's report).
import { readCertificateFile } from '@certfleet/pki';
import type { CertificateFacts } from './types';

/** Facts of one DER certificate; undefined when it does not parse. */
export function certificateFactsFromDer(der: Buffer, where: { host?: string; path?: string } = {}): CertificateFacts | undefined {
  try {
    const [c] = readCertificateFile(der, { path: 'certificate.der', passwords: [] }).certificates;
    if (!c) return undefined;
    return {
      fingerprintSha256: c.fingerprintSha256,
      issuer: c.issuer,
      keyAlgorithm: c.keyAlgorithm,
      keySize: c.keySize,
      keyCurve: c.keyCurve,
      signatureAlgorithm: c.signatureAlgorithm,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      dnsNames: c.dnsNames,
      ipAddresses: c.ipAddresses,
      isCa: c.isCa,
      selfSigned: c.selfSigned,
      publicKeySha256: c.publicKeySha256,
      ...where,
    };
  } catch {
    return undefined;
  }
}
