// Which CA a CertID names (RFC 6960 4.1.1): the hash of the issuer's subject Name DER and of its
// subjectPublicKey bits, under whichever of the four hashes the client chose; all precomputed.
import { hash } from 'node:crypto';
import { CA_SIGNER, IssuingCa } from '../issuance/issuing-ca';
import { readCertificateParts } from './certificate-parts';
import { OCSP_HASHES, OcspCertId, OcspHash } from './ocsp-request';

export function ocspCertIdMatcher(ca: IssuingCa): (certId: OcspCertId) => boolean {
  if (!ca?.[CA_SIGNER]) throw new TypeError('ocspCertIdMatcher: `ca` must come from loadIssuingCa');
  const { publicKeyBits } = readCertificateParts(ca.certificateDer);
  const expected = new Map<OcspHash, { name: Buffer; key: Buffer }>();
  for (const { hash: algorithm } of OCSP_HASHES) {
    expected.set(algorithm, { name: hash(algorithm, ca.subjectDer, 'buffer'), key: hash(algorithm, publicKeyBits, 'buffer') });
  }
  return (certId) => {
    const wanted = expected.get(certId?.hash);
    return wanted !== undefined && wanted.key.equals(certId.issuerKeyHash) && wanted.name.equals(certId.issuerNameHash);
  };
}
