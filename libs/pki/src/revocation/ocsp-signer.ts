// What signs OCSP responses (RFC 6960 4.2.2.2): the CA itself, or a responder certificate the CA
// issued with id-kp-OCSPSigning. Everything constant per signer (responderID, algorithm, certs) is
// encoded here once, so a response costs its own encoding plus one `crypto.sign`.
import { createPrivateKey, hash, KeyObject, X509Certificate } from 'node:crypto';
import { CaMaterialError } from '../authority/errors';
import { decodeSinglePemOrDer } from '../authority/pem';
import { CA_SIGNER, IssuingCa } from '../issuance/issuing-ca';
import { algorithmIdentifier, explicit, NULL_VALUE, octetString, sequence } from '../der/der';
import { readCertificateParts } from './certificate-parts';

/** @internal */
export interface OcspSignerParts {
  key: KeyObject;
  digest: string;
  signatureAlgorithm: Buffer;
  /** ResponderID byKey [2] EXPLICIT KeyHash: SHA-1 of the signer's subjectPublicKey bits. */
  responderId: Buffer;
  /** certs [0] EXPLICIT SEQUENCE OF Certificate, or empty when the CA signs (clients have it). */
  certs: Buffer;
}

/** @internal */
export const OCSP_SIGNER: unique symbol = Symbol('certfleet.ocspSigner');

export interface OcspSigner {
  /** The CA whose certificates the responses are about. */
  readonly issuer: IssuingCa;
  /** @internal */
  readonly [OCSP_SIGNER]: OcspSignerParts;
}

const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const RSA_MIN_BITS = 2048;
const responderIdByKey = (publicKeyBits: Buffer) => explicit(2, octetString(hash('sha1', publicKeyBits, 'buffer')));

/** The CA signs its own responses: no certificate needs to travel with them. */
export function ocspSignerForCa(ca: IssuingCa): OcspSigner {
  const signer = ca?.[CA_SIGNER];
  if (!signer) throw new TypeError('ocspSignerForCa: `ca` must come from loadIssuingCa');
  const { publicKeyBits } = readCertificateParts(ca.certificateDer);
  return Object.freeze({
    issuer: ca,
    [OCSP_SIGNER]: { key: signer.key, digest: signer.digest, signatureAlgorithm: signer.signatureAlgorithm, responderId: responderIdByKey(publicKeyBits), certs: Buffer.alloc(0) },
  });
}

/**
 * A delegated responder: checks that `ca` issued and signed the certificate, that its EKU has
 * id-kp-OCSPSigning, that it has not expired, and that the key is its own. Throws CaMaterialError.
 */
export function ocspSignerForDelegate(ca: IssuingCa, delegate: { certificatePem: string; privateKeyPem: string }): OcspSigner {
  if (!ca?.[CA_SIGNER]) throw new TypeError('ocspSignerForDelegate: `ca` must come from loadIssuingCa');
  let der: Buffer;
  let certificate: X509Certificate;
  let publicKeyBits: Buffer;
  try {
    der = decodeSinglePemOrDer(delegate.certificatePem, ['CERTIFICATE']);
    certificate = new X509Certificate(der);
    ({ publicKeyBits } = readCertificateParts(der));
  } catch (error) {
    throw new CaMaterialError(`cannot read the OCSP responder certificate: ${(error as Error).message}`);
  }
  const caCertificate = new X509Certificate(ca.certificateDer);
  if (!certificate.checkIssued(caCertificate) || !certificate.verify(caCertificate.publicKey)) {
    throw new CaMaterialError(`the OCSP responder certificate was not issued by "${ca.subject}"`);
  }
  if (!(certificate.keyUsage ?? []).includes(OCSP_SIGNING)) {
    throw new CaMaterialError('the OCSP responder certificate lacks extendedKeyUsage id-kp-OCSPSigning');
  }
  const notAfter = new Date(certificate.validTo);
  if (!(notAfter.getTime() > Date.now())) throw new CaMaterialError(`the OCSP responder certificate expired at ${notAfter.toISOString()}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(delegate.privateKeyPem);
  } catch (error) {
    throw new CaMaterialError(`cannot read the OCSP responder private key: ${(error as Error).message}`);
  }
  if (key.type !== 'private' || !certificate.checkPrivateKey(key)) throw new CaMaterialError('the private key does not belong to the OCSP responder certificate');
  const { digest, signatureAlgorithm } = responderAlgorithm(key);
  return Object.freeze({
    issuer: ca,
    [OCSP_SIGNER]: { key, digest, signatureAlgorithm, responderId: responderIdByKey(publicKeyBits), certs: explicit(0, sequence([der])) },
  });
}

function responderAlgorithm(key: KeyObject): { digest: string; signatureAlgorithm: Buffer } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return { digest: 'sha256', signatureAlgorithm: algorithmIdentifier('1.2.840.10045.4.3.2') };
    if (details.namedCurve === 'secp384r1') return { digest: 'sha384', signatureAlgorithm: algorithmIdentifier('1.2.840.10045.4.3.3') };
    if (details.namedCurve === 'secp521r1') return { digest: 'sha512', signatureAlgorithm: algorithmIdentifier('1.2.840.10045.4.3.4') };
  }
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= RSA_MIN_BITS) {
    return { digest: 'sha256', signatureAlgorithm: algorithmIdentifier('1.2.840.113549.1.1.11', NULL_VALUE) };
  }
  throw new CaMaterialError(`unsupported OCSP responder key ${key.asymmetricKeyType} ${details.namedCurve ?? details.modulusLength ?? ''}`.trim() + ': use ECDSA P-256/P-384/P-521 or RSA >= 2048 bits');
}
