// A delegated OCSP responder certificate (RFC 6960 4.2.2.2), signed by the issuing CA the way
// leaf-certificate.ts signs leaves: constant parts encoded once, one `crypto.sign`. id-pkix-ocsp-nocheck
// tells clients not to check the responder's own revocation (4.2.2.2.1), so keep it short-lived.
import { hash, randomBytes, sign } from 'node:crypto';
import { CLOCK_SKEW_MS, DAY_MS } from '../authority/certificate-fields';
import { CaMaterialError } from '../authority/errors';
import { bitString, contextTag, NULL_VALUE, objectIdentifier, octetString, sequence, TAG, tlv, utf8String, x509Time } from '../der/der';
import { CA_SIGNER, IssuingCa } from '../issuance/issuing-ca';
import { LeafRequestError } from '../issuance/leaf-profile';
import { isValidSubjectValue } from '../issuance/names';
import { toPemFast } from '../issuance/pem-fast';
import { readSpki, SpkiError } from '../issuance/public-key';
import { extension } from './x509-encoding';

export interface ResponderCertificateRequest {
  /** DER SubjectPublicKeyInfo: EC P-256/P-384/P-521 or RSA (what ocspSignerForDelegate can sign with). */
  publicKeySpki: Buffer;
  commonName: string;
  validityDays: number;
  now?: Date;
}

export interface IssuedResponderCertificate {
  certificatePem: string;
  certificateDer: Buffer;
  serialHex: string;
  /** now + validityDays, clamped to the CA's notAfter. */
  notAfter: Date;
}

const VERSION_V3 = tlv(contextTag(0, true), [Buffer.from([TAG.INTEGER, 1, 2])]);
// basicConstraints CA:FALSE, critical; keyUsage digitalSignature, critical.
const BASIC_CONSTRAINTS_END_ENTITY = extension(objectIdentifier('2.5.29.19'), true, sequence([]));
const KEY_USAGE_DIGITAL_SIGNATURE = extension(objectIdentifier('2.5.29.15'), true, Buffer.from([TAG.BIT_STRING, 2, 7, 0x80]));
const EKU_OCSP_SIGNING = extension(objectIdentifier('2.5.29.37'), false, sequence([objectIdentifier('1.3.6.1.5.5.7.3.9')]));
const OCSP_NOCHECK = extension(objectIdentifier('1.3.6.1.5.5.7.48.1.5'), false, NULL_VALUE);
const SUBJECT_KEY_IDENTIFIER = objectIdentifier('2.5.29.14');
const COMMON_NAME = objectIdentifier('2.5.4.3');
const SERIAL_BYTES = 16;

/** Throws LeafRequestError for a bad request, CaMaterialError when the CA has expired at `now`. */
export function issueOcspResponderCertificate(ca: IssuingCa, request: ResponderCertificateRequest): IssuedResponderCertificate {
  const signer = ca?.[CA_SIGNER];
  if (!signer) throw new TypeError('issueOcspResponderCertificate: `ca` must come from loadIssuingCa');
  const { publicKeySpki, commonName, validityDays, now = new Date() } = request;
  const nowMs = now instanceof Date ? now.getTime() : NaN;
  if (!Number.isFinite(nowMs)) throw new LeafRequestError('`now` is not a valid date');
  if (nowMs >= signer.notAfterMs) throw new CaMaterialError(`the CA certificate "${ca.subject}" expired at ${ca.notAfter.toISOString()}`);
  if (typeof validityDays !== 'number' || !Number.isFinite(validityDays) || validityDays <= 0) {
    throw new LeafRequestError(`validityDays must be a positive number, got ${String(validityDays)}`);
  }
  if (!isValidSubjectValue(commonName)) throw new LeafRequestError(`invalid commonName "${String(commonName).slice(0, 100)}" (1-64 characters, no control characters)`);
  let key: ReturnType<typeof readSpki>;
  try {
    key = readSpki(publicKeySpki);
  } catch (error) {
    throw new LeafRequestError(`public key: ${error instanceof SpkiError ? error.reason : (error as Error).message}`);
  }
  if (key.keyAlgorithm === 'Ed25519') throw new LeafRequestError('public key: an OCSP responder key must be EC or RSA');

  const serial = randomBytes(SERIAL_BYTES);
  serial[0] = serial[0] & 0x7f || 0x01; // positive, exactly 16 octets
  const notBefore = new Date(Math.floor((nowMs - CLOCK_SKEW_MS) / 1000) * 1000);
  const notAfter = new Date(Math.floor(Math.min(nowMs + validityDays * DAY_MS, signer.notAfterMs) / 1000) * 1000);
  const extensions = sequence([
    BASIC_CONSTRAINTS_END_ENTITY,
    KEY_USAGE_DIGITAL_SIGNATURE,
    EKU_OCSP_SIGNING,
    OCSP_NOCHECK,
    extension(SUBJECT_KEY_IDENTIFIER, false, octetString(hash('sha1', key.publicKeyBits, 'buffer'))),
    signer.authorityKeyIdentifierExtension,
  ]);
  const tbs = sequence([
    VERSION_V3,
    tlv(TAG.INTEGER, [serial]),
    signer.algorithmAndIssuer,
    sequence([x509Time(notBefore), x509Time(notAfter)]),
    sequence([tlv(TAG.SET, [sequence([COMMON_NAME, utf8String(commonName)])])]),
    publicKeySpki,
    tlv(contextTag(3, true), [extensions]),
  ]);
  const certificateDer = sequence([tbs, signer.signatureAlgorithm, bitString(sign(signer.digest, tbs, signer.key))]);
  return { certificatePem: toPemFast(certificateDer, 'CERTIFICATE'), certificateDer, serialHex: serial.toString('hex'), notAfter };
}
