// An RFC 6960 OCSPRequest for one certificate (SHA-1 CertID, the hash every responder supports)
// with an RFC 8954 nonce, built by pkijs.
import { randomBytes } from 'node:crypto';
import { octetString } from '../der/der';
import { cryptoEngine, pkijs, Pkijs } from './pkijs-runtime';

export const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

export interface BuiltOcspRequest {
  der: Buffer;
  /** The nonce as sent: the bytes of the nonce extension's value (an OCTET STRING holding 16 random bytes). */
  nonceValue: Buffer;
  nonce: Buffer;
}

export async function buildOcspRequest(certificate: Pkijs.Certificate, issuer: Pkijs.Certificate): Promise<BuiltOcspRequest> {
  const request = new pkijs.OCSPRequest();
  await request.createForCertificate(certificate, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer }, cryptoEngine());
  const nonce = randomBytes(16);
  const nonceValue = octetString(nonce);
  request.tbsRequest.requestExtensions = [new pkijs.Extension({ extnID: ID_PKIX_OCSP_NONCE, critical: false, extnValue: new Uint8Array(nonceValue).buffer })];
  return { der: Buffer.from(request.toSchema(true).toBER()), nonceValue, nonce };
}
