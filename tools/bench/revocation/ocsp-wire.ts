// What a relying party puts on the wire: RFC 6960 OCSP requests (SHA-1 CertID, as OpenSSL sends,
// optionally an RFC 8954 nonce) built with der.ts, the certStatus read back from a response, and
// whether a CRL lists a serial. Kept to der.ts so the load clients start and run light.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { algorithmIdentifier, explicit, NULL_VALUE, objectIdentifier, octetString, sequence, unsignedInteger } from '../../../libs/pki/src/der/der';
import { readCertificateParts } from '../../../libs/pki/src/revocation/certificate-parts';

const SHA1 = algorithmIdentifier('1.3.14.3.2.26', NULL_VALUE);
const NONCE_OID = objectIdentifier('1.3.6.1.5.5.7.48.1.2');

/** hashAlgorithm + issuerNameHash + issuerKeyHash of CertIDs for certificates of this CA, DER. */
export function certIdPrefix(caCertificatePem: string): Buffer {
  const parts = readCertificateParts(Buffer.from(new X509Certificate(caCertificatePem).raw));
  const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();
  return Buffer.concat([SHA1, octetString(sha1(parts.subjectDer)), octetString(sha1(parts.publicKeyBits))]);
}

export const serialInteger = (serialHex: string): Buffer => unsignedInteger(Buffer.from(serialHex, 'hex'));

/** The CertID as sent, so it can be found again in the response (the responder echoes it). */
export const certId = (prefix: Buffer, serialHex: string): Buffer => sequence([prefix, serialInteger(serialHex)]);

/** OCSPRequest { tbsRequest { requestList { Request { CertID } } [, requestExtensions [2] { nonce }] } }. */
export function ocspRequest(certIdDer: Buffer, withNonce = false): Buffer {
  const requestList = sequence([sequence([certIdDer])]);
  if (!withNonce) return sequence([sequence([requestList])]);
  const nonce = sequence([NONCE_OID, octetString(octetString(randomBytes(16)))]);
  return sequence([sequence([requestList, explicit(2, sequence([nonce]))])]);
}

export type CertStatus = 'good' | 'revoked' | 'unknown' | 'error';

/**
 * certStatus of the SingleResponse for `certIdDer`: the CHOICE tag right after the echoed CertID
 * ([0] good, [1] revoked, [2] unknown); 'error' for an unsuccessful OCSPResponse or none found.
 */
export function certStatus(response: Buffer, certIdDer: Buffer): CertStatus {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... }: the header is 2-4 bytes.
  const at = response[1] & 0x80 ? 2 + (response[1] & 0x7f) : 2;
  if (response[at] !== 0x0a || response[at + 2] !== 0) return 'error';
  const i = response.indexOf(certIdDer);
  if (i < 0) return 'error';
  const tag = response[i + certIdDer.length];
  return tag === 0x80 ? 'good' : tag === 0xa1 ? 'revoked' : tag === 0x82 ? 'unknown' : 'error';
}

/** True when the CRL has an entry for the serial (its INTEGER, as entries encode it, is present). */
export const crlLists = (crl: Buffer, serialHex: string): boolean => crl.indexOf(serialInteger(serialHex)) >= 0;
