// End-entity certificates from the issuing CA, built as DER directly: the constant parts (version,
// signature algorithm, issuer, basicConstraints, AKI) are encoded once, the rest per certificate,
// and one synchronous `crypto.sign` signs the TBSCertificate.
import { hash, randomBytes, sign } from 'node:crypto';
import { CaMaterialError } from '../authority/errors';
import { CLOCK_SKEW_MS, DAY_MS } from '../authority/certificate-fields';
import { bitString, contextTag, ia5String, objectIdentifier, octetString, sequence, TAG, tlv, unsignedInteger, utf8String, x509Time } from '../der/der';
import { CA_SIGNER, IssuingCa } from './issuing-ca';
import { LeafProfile, LeafRequestError, LeafUsage, USAGE_OIDS } from './leaf-profile';
import { ipAddressBytes, isValidDnsName, isValidEmail, isValidSubjectValue, isValidUri } from './names';
import { toPemFast } from './pem-fast';
import { readSpki, SpkiError } from './public-key';

export interface LeafRequest {
  /** DER SubjectPublicKeyInfo, normally `verifyCsrFast(csr).publicKeySpki` (the key is taken as verified). */
  publicKeySpki: Buffer;
  profile: LeafProfile;
  now?: Date;
  /** Hex (any case, no colons), positive, at most 20 octets encoded; default 16 random bytes. */
  serialHex?: string;
}

export interface IssuedLeaf {
  certificatePem: string;
  certificateDer: Buffer;
  /** Lowercase hex without colons or sign byte, as OpenSSL and Node print it. */
  serialHex: string;
  notBefore: Date;
  /** now + validityDays, clamped to the issuing CA's notAfter. */
  notAfter: Date;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprintSha256: string;
}

const VERSION_V3 = tlv(contextTag(0, true), [Buffer.from([TAG.INTEGER, 1, 2])]);
const CRITICAL = Buffer.from([TAG.BOOLEAN, 1, 0xff]);
const extension = (oid: Buffer, critical: boolean, value: Buffer) => sequence(critical ? [oid, CRITICAL, octetString(value)] : [oid, octetString(value)]);

// basicConstraints CA:FALSE (cA DEFAULT FALSE is omitted in DER), critical.
const BASIC_CONSTRAINTS_END_ENTITY = extension(objectIdentifier('2.5.29.19'), true, sequence([]));
// keyUsage, critical: digitalSignature (bit 0), plus keyEncipherment (bit 2) for RSA TLS servers.
const KEY_USAGE = objectIdentifier('2.5.29.15');
const KEY_USAGE_SIGN = extension(KEY_USAGE, true, Buffer.from([TAG.BIT_STRING, 2, 7, 0x80]));
const KEY_USAGE_SIGN_ENCIPHER = extension(KEY_USAGE, true, Buffer.from([TAG.BIT_STRING, 2, 5, 0xa0]));
const EXTENDED_KEY_USAGE = objectIdentifier('2.5.29.37');
const SUBJECT_ALT_NAME = objectIdentifier('2.5.29.17');
const SUBJECT_KEY_IDENTIFIER = objectIdentifier('2.5.29.14');
const COMMON_NAME = objectIdentifier('2.5.4.3');
const ORGANIZATION = objectIdentifier('2.5.4.10');
const EMPTY_NAME = sequence([]);
const USAGE_ORDER: readonly LeafUsage[] = ['tls-server', 'tls-client', 'code-signing'];
const USAGE_OID_DER: Record<LeafUsage, Buffer> = {
  'tls-server': objectIdentifier(USAGE_OIDS['tls-server']),
  'tls-client': objectIdentifier(USAGE_OIDS['tls-client']),
  'code-signing': objectIdentifier(USAGE_OIDS['code-signing']),
};
// One encoded extendedKeyUsage extension per combination of usages, made on first use.
const ekuCache = new Map<string, Buffer>();

// GeneralName tags (RFC 5280 4.2.1.6), all IMPLICIT primitive.
const RFC822_NAME = contextTag(1, false);
const DNS_NAME = contextTag(2, false);
const URI = contextTag(6, false);
const IP_ADDRESS = contextTag(7, false);

/**
 * Signs an end-entity certificate for `publicKeySpki` as `profile` says. Throws LeafRequestError
 * for a bad request and CaMaterialError when the CA has expired at `now`.
 */
export function issueLeafCertificate(ca: IssuingCa, request: LeafRequest): IssuedLeaf {
  const signer = ca?.[CA_SIGNER];
  if (!signer) throw new TypeError('issueLeafCertificate: `ca` must come from loadIssuingCa');
  const { publicKeySpki, profile, now = new Date(), serialHex } = request;
  if (!profile) throw new LeafRequestError('a profile is required');
  const nowMs = now instanceof Date ? now.getTime() : NaN;
  if (!Number.isFinite(nowMs)) throw new LeafRequestError('`now` is not a valid date');
  if (nowMs >= signer.notAfterMs) throw new CaMaterialError(`the CA certificate "${ca.subject}" expired at ${ca.notAfter.toISOString()}`);
  const { validityDays } = profile;
  if (typeof validityDays !== 'number' || !Number.isFinite(validityDays) || validityDays <= 0) {
    throw new LeafRequestError(`validityDays must be a positive number, got ${String(validityDays)}`);
  }

  let key: ReturnType<typeof readSpki>;
  try {
    key = readSpki(publicKeySpki);
  } catch (error) {
    throw new LeafRequestError(`public key: ${error instanceof SpkiError ? error.reason : (error as Error).message}`);
  }
  const usages = checkUsages(profile.usages, signer.permittedUsages);
  const subject = encodeSubject(profile);
  const serial = serialHex === undefined ? randomSerial() : serialFromHex(serialHex);
  // notBefore = now - 5 min (clock skew), notAfter = now + validityDays clamped to the CA; whole seconds.
  const notBefore = new Date(Math.floor((nowMs - CLOCK_SKEW_MS) / 1000) * 1000);
  const notAfter = new Date(Math.floor(Math.min(nowMs + validityDays * DAY_MS, signer.notAfterMs) / 1000) * 1000);

  const keyEncipherment = key.keyAlgorithm === 'RSA' && usages.includes('tls-server');
  const extensions = sequence([
    BASIC_CONSTRAINTS_END_ENTITY,
    keyEncipherment ? KEY_USAGE_SIGN_ENCIPHER : KEY_USAGE_SIGN,
    extendedKeyUsage(usages),
    // RFC 5280 4.2.1.6: critical when the subject is empty.
    extension(SUBJECT_ALT_NAME, subject === EMPTY_NAME, subjectAltNames(profile)),
    extension(SUBJECT_KEY_IDENTIFIER, false, octetString(hash('sha1', key.publicKeyBits, 'buffer'))),
    signer.authorityKeyIdentifierExtension,
    ...signer.revocationExtensions,
  ]);
  const tbs = sequence([
    VERSION_V3,
    serial.der,
    signer.algorithmAndIssuer,
    sequence([x509Time(notBefore), x509Time(notAfter)]),
    subject,
    publicKeySpki,
    tlv(contextTag(3, true), [extensions]),
  ]);
  // ECDSA signatures come out DER-encoded (Ecdsa-Sig-Value), RSA ones PKCS#1 v1.5: both as X.509 wants.
  const signature = sign(signer.digest, tbs, signer.key);
  const certificateDer = sequence([tbs, signer.signatureAlgorithm, bitString(signature)]);
  return {
    certificatePem: toPemFast(certificateDer, 'CERTIFICATE'),
    certificateDer,
    serialHex: serial.hex,
    notBefore,
    notAfter,
    fingerprintSha256: hash('sha256', certificateDer, 'hex'),
  };
}

function checkUsages(usages: readonly LeafUsage[] | undefined, permitted: ReadonlySet<LeafUsage> | undefined): LeafUsage[] {
  if (!Array.isArray(usages) || usages.length === 0) throw new LeafRequestError('at least one usage (tls-server, tls-client, code-signing) is required');
  for (const usage of usages) {
    if (!Object.prototype.hasOwnProperty.call(USAGE_OIDS, usage)) throw new LeafRequestError(`unknown usage "${String(usage)}"`);
    if (permitted && !permitted.has(usage)) throw new LeafRequestError(`the issuing CA's extendedKeyUsage does not allow ${usage}`);
  }
  return USAGE_ORDER.filter((usage) => usages.includes(usage));
}

function extendedKeyUsage(usages: LeafUsage[]): Buffer {
  const cacheKey = usages.join(',');
  let encoded = ekuCache.get(cacheKey);
  if (!encoded) {
    encoded = extension(EXTENDED_KEY_USAGE, false, sequence(usages.map((usage) => USAGE_OID_DER[usage])));
    ekuCache.set(cacheKey, encoded);
  }
  return encoded;
}

function encodeSubject({ commonName, organization }: LeafProfile): Buffer {
  const attributes: Buffer[] = [];
  if (organization !== undefined) {
    if (!isValidSubjectValue(organization)) throw new LeafRequestError(`invalid organization "${String(organization).slice(0, 100)}"`);
    attributes.push(tlv(TAG.SET, [sequence([ORGANIZATION, utf8String(organization)])]));
  }
  if (commonName !== undefined) {
    if (!isValidSubjectValue(commonName)) throw new LeafRequestError(`invalid commonName "${String(commonName).slice(0, 100)}" (1-64 characters, no control characters)`);
    attributes.push(tlv(TAG.SET, [sequence([COMMON_NAME, utf8String(commonName)])]));
  }
  return attributes.length ? sequence(attributes) : EMPTY_NAME;
}

/** GeneralNames: DNS names, IP addresses, emails, URIs, in that order, each distinct value once. */
function subjectAltNames(profile: LeafProfile): Buffer {
  const names: Buffer[] = [];
  const seen = new Set<string>();
  const add = (kind: string, value: string, encode: () => Buffer) => {
    const key = `${kind}:${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    names.push(encode());
  };
  for (const name of listOf(profile.dnsNames, 'dnsNames')) {
    if (!isValidDnsName(name)) throw new LeafRequestError(`invalid DNS name "${String(name).slice(0, 260)}"`);
    add('DNS', name.toLowerCase(), () => ia5String(name, DNS_NAME));
  }
  for (const address of listOf(profile.ipAddresses, 'ipAddresses')) {
    const bytes = ipAddressBytes(address);
    if (!bytes) throw new LeafRequestError(`invalid IP address "${String(address).slice(0, 100)}"`);
    add('IP', bytes.toString('hex'), () => tlv(IP_ADDRESS, [bytes]));
  }
  for (const email of listOf(profile.emails ?? [], 'emails')) {
    if (!isValidEmail(email)) throw new LeafRequestError(`invalid email address "${String(email).slice(0, 260)}"`);
    add('email', email, () => ia5String(email, RFC822_NAME));
  }
  for (const uri of listOf(profile.uris ?? [], 'uris')) {
    if (!isValidUri(uri)) throw new LeafRequestError(`invalid URI "${String(uri).slice(0, 260)}" (ASCII, with a scheme)`);
    add('URI', uri, () => ia5String(uri, URI));
  }
  if (names.length === 0) throw new LeafRequestError('no names: at least one DNS name, IP address, email or URI is required');
  return sequence(names);
}

function listOf(value: readonly string[], field: string): readonly string[] {
  if (!Array.isArray(value)) throw new LeafRequestError(`${field} must be an array`);
  return value;
}

// 16 random bytes per serial, drawn from a pooled randomBytes() (one call per 256 serials:
// a separate 16-byte call costs about as much as the whole DER encoding).
const SERIAL_BYTES = 16;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomSerial(): { der: Buffer; hex: string } {
  if (poolOffset + SERIAL_BYTES > pool.length) {
    pool = randomBytes(SERIAL_BYTES * 256);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + SERIAL_BYTES);
  poolOffset += SERIAL_BYTES;
  // Positive (top bit clear) with a non-zero first byte: exactly 16 octets (as randomSerialHex).
  bytes[0] = bytes[0] & 0x7f || 0x01;
  return { der: tlv(TAG.INTEGER, [bytes]), hex: bytes.toString('hex') };
}

function serialFromHex(serialHex: string): { der: Buffer; hex: string } {
  if (typeof serialHex !== 'string' || !/^[0-9a-fA-F]{1,64}$/.test(serialHex)) throw new LeafRequestError('serialHex must be hex digits (no colons)');
  let hex = serialHex.toLowerCase().replace(/^0+/, '');
  if (hex === '') throw new LeafRequestError('the serial number must be positive');
  if (hex.length % 2) hex = `0${hex}`;
  const der = unsignedInteger(Buffer.from(hex, 'hex'));
  // RFC 5280 4.1.2.2: at most 20 octets, sign byte included.
  if (der.length - 2 > 20) throw new LeafRequestError('the serial number is longer than 20 octets');
  return { der, hex };
}
