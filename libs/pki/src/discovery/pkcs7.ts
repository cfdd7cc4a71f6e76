// PKCS#7 / CMS SignedData used as a certificate container (.p7b/.p7c, "certs-only").
import { Asn1Error, TAG, children, decodeOid, expectTag, readTlv, whole } from './asn1-reader';
import { OID } from './oids';

/** True when the DER is a ContentInfo whose content type is SignedData. */
export function looksLikePkcs7(der: Buffer): boolean {
  try {
    const first = children(readTlv(der))[0];
    return first?.tag === TAG.OID && decodeOid(first) === OID.pkcs7SignedData;
  } catch {
    return false;
  }
}

/** The DER of every certificate in the SignedData `certificates` field; throws when malformed. */
export function pkcs7Certificates(der: Buffer): Buffer[] {
  const [contentType, explicitContent] = children(expectTag(readTlv(der), TAG.SEQUENCE, 'ContentInfo'));
  if (decodeOid(expectTag(contentType, TAG.OID, 'content type')) !== OID.pkcs7SignedData) {
    throw new Asn1Error('PKCS#7 content is not SignedData');
  }
  const signedData = expectTag(children(expectTag(explicitContent, 0xa0, 'content'))[0], TAG.SEQUENCE, 'SignedData');
  const certificates = children(signedData).find((field) => field.tag === 0xa0);
  // Only X.509 certificates (SEQUENCE); other CertificateChoices (attribute certificates) are skipped.
  return certificates ? children(certificates).filter((c) => c.tag === TAG.SEQUENCE).map(whole) : [];
}
