// The certificate being checked and its issuer, parsed once per check into what the OCSP and
// CRL paths need: pkijs objects (CertID, extensions), Node X509Certificates (signatures), and
// the keys used by the caches.
import { createHash, X509Certificate } from 'node:crypto';
import type { Pkijs } from './pkijs-runtime';
import { serialKey } from './serial';
import type { RevocationUrls } from './types';
import { parseCertificate, urlsOfCertificate } from './urls';

export interface CheckSubject {
  certificate: Pkijs.Certificate;
  certificateX509: X509Certificate;
  issuer: Pkijs.Certificate;
  issuerX509: X509Certificate;
  /** serialKey() of the certificate's serial number. */
  serial: string;
  /** SHA-1 of the issuer's public key bits, as in an OCSP CertID (OCSP cache key). */
  issuerKeyHash: string;
  /** SHA-256 of the issuer's SubjectPublicKeyInfo: which key verified a cached CRL. */
  issuerKeyId: string;
  isCa: boolean;
  urls: RevocationUrls;
}

/** Throws when either input is not a DER certificate. */
export function describeSubject(certificateDer: Buffer, issuerDer: Buffer): CheckSubject {
  const certificate = parseCertificate(certificateDer, 'certificate');
  const issuer = parseCertificate(issuerDer, 'issuer');
  const certificateX509 = new X509Certificate(certificateDer);
  const issuerX509 = new X509Certificate(issuerDer);
  const keyBits = issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return {
    certificate,
    certificateX509,
    issuer,
    issuerX509,
    serial: serialKey(certificate.serialNumber.valueBlock.valueHexView),
    issuerKeyHash: createHash('sha1').update(keyBits).digest('hex'),
    issuerKeyId: createHash('sha256').update(issuerX509.publicKey.export({ type: 'spki', format: 'der' })).digest('hex'),
    isCa: certificateX509.ca,
    urls: urlsOfCertificate(certificate),
  };
}

/** Why `issuerDer` is not the certificate's issuer, or undefined when it is (names and signature). */
export function issuerMismatch(subject: CheckSubject): string | undefined {
  const { certificateX509: certificate, issuerX509: issuer } = subject;
  if (!certificate.checkIssued(issuer)) {
    return `the issuer certificate given (subject "${oneLine(issuer.subject)}") is not this certificate's issuer ("${oneLine(certificate.issuer)}")`;
  }
  if (!certificate.verify(issuer.publicKey)) return `the certificate's signature does not verify with the given issuer's key ("${oneLine(issuer.subject)}")`;
  return undefined;
}

export const oneLine = (name: string): string => name.replace(/\n/g, ', ');
