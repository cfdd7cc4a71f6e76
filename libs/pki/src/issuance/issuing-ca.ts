// The server's issuing CA, loaded once: everything that does not change between certificates is
// checked and precomputed here (issuer name DER, AKI extension, signature algorithm, a Node
// KeyObject), so issuing a certificate is encoding plus one `crypto.sign`.
import { createHash, createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { CaMaterialError } from '../authority/errors';
import { decodeSinglePemOrDer } from '../authority/pem';
import { x509 } from '../authority/x509-runtime';
import { bitStringBytes, contextTag, expectTag, objectIdentifier, octetString, rawOf, readChildren, readWhole, sequence, TAG, tlv } from '../der/der';
import { LEAF_USAGES, LeafUsage, USAGE_OIDS } from './leaf-profile';
import { toPemFast } from './pem-fast';

export interface IssuingCaMaterial {
  certificatePem: string;
  /** Unencrypted PKCS#8 or SEC1/PKCS#1 PEM (decrypt with `decryptWithPassphrase` first). */
  privateKeyPem: string;
  /** The certificates above the issuing CA, issuer first; the root may be included. Optional. */
  chainPem?: string;
}

export interface LoadIssuingCaOptions {
  /** The time the CA must be valid at (default: now). */
  now?: Date;
  /** Where relying parties check revocation: put in every leaf's AIA and CRL distribution point extensions. */
  revocationUrls?: RevocationUrlsForLeaves;
}

/** http(s) URLs; each one given becomes an extension (AIA OCSP / caIssuers, cRLDistributionPoints). */
export interface RevocationUrlsForLeaves {
  ocsp?: string;
  caIssuers?: string;
  crl?: string;
}

export type IssuingCaKeyType = 'EC P-256' | 'EC P-384' | 'RSA';
export type IssuingCaSignatureAlgorithm = 'ecdsa-with-SHA256' | 'ecdsa-with-SHA384' | 'sha256WithRSAEncryption';

/** @internal What issueLeafCertificate needs; not part of the public API. */
export interface CaSigner {
  key: KeyObject;
  digest: 'sha256' | 'sha384';
  /** AlgorithmIdentifier, DER: in the TBSCertificate and after it. */
  signatureAlgorithm: Buffer;
  /** signature AlgorithmIdentifier followed by the issuer Name: what follows the serial in every TBS. */
  algorithmAndIssuer: Buffer;
  authorityKeyIdentifierExtension: Buffer;
  /** AIA and CRL distribution point extensions (possibly none), DER, the same in every leaf. */
  revocationExtensions: Buffer[];
  notAfterMs: number;
  permittedUsages?: ReadonlySet<LeafUsage>;
}

/** @internal */
export const CA_SIGNER: unique symbol = Symbol('certfleet.issuingCaSigner');

export interface IssuingCa {
  readonly certificatePem: string;
  readonly certificateDer: Buffer;
  /** The certificates above this CA, issuer first, PEM; '' when no chain was given. */
  readonly chainPem: string;
  /** e.g. "CN=Example Issuing CA, O=Example" (for messages and logs). */
  readonly subject: string;
  /** The CA's subject Name exactly as encoded in its certificate: every leaf's issuer. */
  readonly subjectDer: Buffer;
  readonly subjectKeyIdentifier: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyType: IssuingCaKeyType;
  readonly signatureAlgorithm: IssuingCaSignatureAlgorithm;
  /** The leaf usages the CA's own extendedKeyUsage allows; undefined when it does not restrict them. */
  readonly permittedUsages?: readonly LeafUsage[];
  /** @internal */
  readonly [CA_SIGNER]: CaSigner;
}

const RSA_CA_MIN_BITS = 2048;
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const ALGORITHMS: Record<IssuingCaSignatureAlgorithm, Buffer> = {
  'ecdsa-with-SHA256': sequence([objectIdentifier('1.2.840.10045.4.3.2')]),
  'ecdsa-with-SHA384': sequence([objectIdentifier('1.2.840.10045.4.3.3')]),
  'sha256WithRSAEncryption': sequence([objectIdentifier('1.2.840.113549.1.1.11'), Buffer.from([TAG.NULL, 0])]),
};
const AUTHORITY_KEY_IDENTIFIER = objectIdentifier('2.5.29.35');
const AUTHORITY_INFO_ACCESS = objectIdentifier('1.3.6.1.5.5.7.1.1');
const ACCESS_OCSP = objectIdentifier('1.3.6.1.5.5.7.48.1');
const ACCESS_CA_ISSUERS = objectIdentifier('1.3.6.1.5.5.7.48.2');
const CRL_DISTRIBUTION_POINTS = objectIdentifier('2.5.29.31');
const URI_NAME = contextTag(6, false);

/**
 * Parses and checks the issuing CA once: a CA certificate (basicConstraints CA:TRUE, keyUsage with
 * keyCertSign) that is valid at `now`, an ECDSA P-256/P-384 or RSA (>= 2048 bits) private key that
 * belongs to it, and, when given, a chain whose first certificate issued it. Throws CaMaterialError.
 */
export function loadIssuingCa(material: IssuingCaMaterial, { now = new Date(), revocationUrls = {} }: LoadIssuingCaOptions = {}): IssuingCa {
  const { certificatePem, privateKeyPem, chainPem } = material;
  let der: Buffer;
  let subjectDer: Buffer;
  let spki: Buffer;
  let certificate: InstanceType<typeof x509.X509Certificate>;
  let nodeCertificate: X509Certificate;
  try {
    der = decodeSinglePemOrDer(certificatePem, ['CERTIFICATE']);
    ({ subjectDer, spki } = readCaFields(der));
    certificate = new x509.X509Certificate(der);
    nodeCertificate = new X509Certificate(der);
  } catch (error) {
    throw new CaMaterialError(`cannot read the CA certificate: ${(error as Error).message}`);
  }
  const subject = certificate.subject;

  if (!certificate.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new CaMaterialError(`certificate "${subject}" is not a CA (basicConstraints CA:TRUE missing)`);
  }
  const keyUsage = certificate.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage || !(keyUsage.usages & x509.KeyUsageFlags.keyCertSign)) {
    throw new CaMaterialError(`certificate "${subject}" may not sign certificates (keyUsage keyCertSign missing)`);
  }
  const { notBefore, notAfter } = certificate;
  if (now.getTime() >= notAfter.getTime()) throw new CaMaterialError(`the CA certificate "${subject}" expired at ${notAfter.toISOString()}`);

  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new CaMaterialError(`cannot read the CA private key: ${(error as Error).message}`);
  }
  const { keyType, signatureAlgorithm, digest } = signingParameters(key);
  if (!nodeCertificate.checkPrivateKey(key)) throw new CaMaterialError('the private key does not belong to the CA certificate');

  const skiExtension = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const subjectKeyIdentifier = skiExtension
    ? Buffer.from(skiExtension.keyId, 'hex')
    : createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
  const eku = certificate.getExtension(x509.ExtendedKeyUsageExtension);
  const caPurposes = eku?.usages.map(String);
  const permittedUsages = caPurposes && !caPurposes.includes(ANY_EXTENDED_KEY_USAGE) ? LEAF_USAGES.filter((u) => caPurposes.includes(USAGE_OIDS[u])) : undefined;

  const algorithm = ALGORITHMS[signatureAlgorithm];
  const signer: CaSigner = {
    key,
    digest,
    signatureAlgorithm: algorithm,
    algorithmAndIssuer: Buffer.concat([algorithm, subjectDer]),
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }, not critical.
    authorityKeyIdentifierExtension: sequence([AUTHORITY_KEY_IDENTIFIER, octetString(sequence([tlv(contextTag(0, false), [subjectKeyIdentifier])]))]),
    revocationExtensions: encodeRevocationExtensions(revocationUrls),
    notAfterMs: notAfter.getTime(),
    permittedUsages: permittedUsages ? new Set(permittedUsages) : undefined,
  };
  return Object.freeze({
    certificatePem: toPemFast(der, 'CERTIFICATE'),
    certificateDer: der,
    chainPem: checkChain(nodeCertificate, chainPem),
    subject,
    subjectDer: Buffer.from(subjectDer),
    subjectKeyIdentifier,
    notBefore,
    notAfter,
    keyType,
    signatureAlgorithm,
    permittedUsages,
    [CA_SIGNER]: signer,
  });
}

function checkedUrl(url: string, what: string): Buffer {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CaMaterialError(`the ${what} URL "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CaMaterialError(`the ${what} URL "${url}" must be http:// or https://`);
  if (!/^[\x21-\x7e]+$/.test(url)) throw new CaMaterialError(`the ${what} URL "${url}" must be plain ASCII without spaces`);
  return tlv(URI_NAME, [Buffer.from(url, 'latin1')]);
}

// RFC 5280 4.2.2.1 (authorityInfoAccess) and 4.2.1.13 (cRLDistributionPoints), both non-critical.
function encodeRevocationExtensions({ ocsp, caIssuers, crl }: RevocationUrlsForLeaves): Buffer[] {
  const extensions: Buffer[] = [];
  const access: Buffer[] = [];
  if (ocsp) access.push(sequence([ACCESS_OCSP, checkedUrl(ocsp, 'OCSP')]));
  if (caIssuers) access.push(sequence([ACCESS_CA_ISSUERS, checkedUrl(caIssuers, 'CA issuers')]));
  if (access.length) extensions.push(sequence([AUTHORITY_INFO_ACCESS, octetString(sequence(access))]));
  if (crl) {
    // DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } }
    const point = sequence([tlv(contextTag(0, true), [tlv(contextTag(0, true), [checkedUrl(crl, 'CRL')])])]);
    extensions.push(sequence([CRL_DISTRIBUTION_POINTS, octetString(sequence([point]))]));
  }
  return extensions;
}

/** The raw subject Name and SubjectPublicKeyInfo of a certificate, sliced out of its DER. */
function readCaFields(der: Buffer): { subjectDer: Buffer; spki: Buffer } {
  const [tbs] = readChildren(der, expectTag(readWhole(der), TAG.SEQUENCE, 'Certificate'));
  const fields = readChildren(der, expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  const at = fields[0]?.tag === contextTag(0, true) ? 1 : 0; // version [0] is absent in v1 certificates
  const subject = expectTag(fields[at + 4], TAG.SEQUENCE, 'subject');
  const spki = expectTag(fields[at + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  return { subjectDer: rawOf(der, subject), spki: rawOf(der, spki) };
}

function subjectPublicKeyBits(spki: Buffer): Buffer {
  const [, bits] = readChildren(spki, readWhole(spki));
  return bitStringBytes(spki, bits, 'subjectPublicKey');
}

function signingParameters(key: KeyObject): { keyType: IssuingCaKeyType; signatureAlgorithm: IssuingCaSignatureAlgorithm; digest: CaSigner['digest'] } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return { keyType: 'EC P-256', signatureAlgorithm: 'ecdsa-with-SHA256', digest: 'sha256' };
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'secp384r1') return { keyType: 'EC P-384', signatureAlgorithm: 'ecdsa-with-SHA384', digest: 'sha384' };
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < RSA_CA_MIN_BITS) throw new CaMaterialError(`the CA's RSA key has ${bits} bits (minimum ${RSA_CA_MIN_BITS})`);
    return { keyType: 'RSA', signatureAlgorithm: 'sha256WithRSAEncryption', digest: 'sha256' };
  }
  throw new CaMaterialError(`unsupported CA key type ${key.asymmetricKeyType} ${details.namedCurve ?? ''}`.trim() + ': use ECDSA P-256/P-384 or RSA');
}

/** Checks that each certificate of the chain issued (and signed) the one before it; returns it as PEM. */
function checkChain(ca: X509Certificate, chainPem: string | undefined): string {
  if (chainPem === undefined || chainPem.trim() === '') return '';
  let blocks: { type: string; rawData: ArrayBuffer }[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(chainPem);
  } catch {
    throw new CaMaterialError('cannot read the CA chain: not PEM');
  }
  if (blocks.length === 0) throw new CaMaterialError('cannot read the CA chain: no PEM block');
  const chain: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    if (block.type !== 'CERTIFICATE') throw new CaMaterialError(`CA chain entry ${i + 1} is a ${block.type}, not a CERTIFICATE`);
    try {
      chain.push(new X509Certificate(Buffer.from(block.rawData)));
    } catch (error) {
      throw new CaMaterialError(`cannot read CA chain entry ${i + 1}: ${(error as Error).message}`);
    }
  }
  // A "full chain" file that starts with the issuing CA itself is accepted.
  if (chain[0].raw.equals(ca.raw)) chain.shift();
  let child = ca;
  for (const [i, parent] of chain.entries()) {
    if (!parent.ca || !child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new CaMaterialError(`CA chain entry ${i + 1} ("${parent.subject.replace(/\n/g, ', ')}") did not issue "${child.subject.replace(/\n/g, ', ')}"`);
    }
    child = parent;
  }
  return chain.map((c) => toPemFast(c.raw, 'CERTIFICATE')).join('');
}
