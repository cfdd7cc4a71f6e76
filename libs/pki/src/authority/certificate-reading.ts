// Reading the few fields the fleet's identity checks depend on, from certificates that may come
// from a peer. Uses @peculiar/x509 rather than parsing Node's subjectAltName string, whose
// escaping of commas and quotes makes it unsafe to split.
import { decodeSinglePemOrDer, PemOrDer } from './pem';
import { x509, X509 } from './x509-runtime';

/** Parses one certificate; undefined when the input is not exactly one certificate. */
export function readCertificate(input: PemOrDer): X509.X509Certificate | undefined {
  try {
    return new x509.X509Certificate(decodeSinglePemOrDer(input, ['CERTIFICATE']));
  } catch {
    return undefined;
  }
}

export function uriSubjectAltNames(certificate: X509.X509Certificate): string[] {
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((name) => name.type === 'url').map((name) => name.value) : [];
}

export function extendedKeyUsages(certificate: X509.X509Certificate): string[] {
  const eku = certificate.getExtension(x509.ExtendedKeyUsageExtension);
  return eku ? eku.usages.map((usage) => String(usage)) : [];
}

export function isCaCertificate(certificate: X509.X509Certificate): boolean {
  return certificate.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}
