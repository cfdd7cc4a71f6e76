// A certificate's subject and issuer names as DER, sliced out with @certfleet/pki's strict reader:
// issuers are matched by exact name bytes (RFC 5280 name chaining), not by the display strings.
import { der } from '@certfleet/pki';

export interface CertificateNames {
  subjectDer: Buffer;
  issuerDer: Buffer;
}

/** Throws DerError when `certificate` is not DER as RFC 5280 lays it out. */
export function certificateNames(certificate: Buffer): CertificateNames {
  const { TAG } = der;
  const [tbs] = der.readChildren(certificate, der.expectTag(der.readWhole(certificate), TAG.SEQUENCE, 'Certificate'));
  const fields = der.readChildren(certificate, der.expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  const at = fields[0]?.tag === der.contextTag(0, true) ? 1 : 0; // version [0] is absent in v1 certificates
  return {
    issuerDer: der.rawOf(certificate, der.expectTag(fields[at + 2], TAG.SEQUENCE, 'issuer')),
    subjectDer: der.rawOf(certificate, der.expectTag(fields[at + 4], TAG.SEQUENCE, 'subject')),
  };
}
