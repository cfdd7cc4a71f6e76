import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { algorithmIdentifier, bitString, contextTag, ia5String, implicitPrimitive, NULL_VALUE, objectIdentifier, octetString, sequence, setOf, smallInteger, tlv, utf8String } from '../der';
import { ipAddressBytes } from '../issuance/names';

export interface NewKeyAndCsr {
  /** PKCS#8 PEM. Callers write it 0600 and never send it anywhere. */
  privateKeyPem: string;
  csrPem: string;
}

/** Key types a managed certificate's profile may ask for (the same names as the policy's profiles). */
export type CsrKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export const CSR_KEY_TYPES: readonly CsrKeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

export interface KeyAndCsrRequest {
  keyType: CsrKeyType;
  /** Subject CN (at most 64 characters); omitted: the subject is empty and the SANs carry the names. */
  commonName?: string;
  dnsNames: readonly string[];
  /** IPv4 or IPv6 literals. */
  ipAddresses: readonly string[];
}

/** How a request is signed: the hash given to crypto.sign and the AlgorithmIdentifier it names. */
interface SigningParams {
  hash: 'sha256' | 'sha384';
  algorithm: Buffer;
}

const ECDSA_WITH_SHA256: SigningParams = { hash: 'sha256', algorithm: algorithmIdentifier('1.2.840.10045.4.3.2') };
const ECDSA_WITH_SHA384: SigningParams = { hash: 'sha384', algorithm: algorithmIdentifier('1.2.840.10045.4.3.3') };
const SHA256_WITH_RSA: SigningParams = { hash: 'sha256', algorithm: algorithmIdentifier('1.2.840.113549.1.1.11', NULL_VALUE) };

const KEY_TYPES: Record<CsrKeyType, { generate: () => Promise<KeyObject>; params: SigningParams }> = {
  'ec-p256': { generate: () => ecKey('P-256'), params: ECDSA_WITH_SHA256 },
  'ec-p384': { generate: () => ecKey('P-384'), params: ECDSA_WITH_SHA384 },
  'rsa-2048': { generate: () => rsaKey(2048), params: SHA256_WITH_RSA },
  'rsa-3072': { generate: () => rsaKey(3072), params: SHA256_WITH_RSA },
  'rsa-4096': { generate: () => rsaKey(4096), params: SHA256_WITH_RSA },
};

const generateKeyPairAsync = promisify(generateKeyPair);

async function ecKey(namedCurve: 'P-256' | 'P-384'): Promise<KeyObject> {
  return (await generateKeyPairAsync('ec', { namedCurve })).privateKey;
}

async function rsaKey(modulusLength: number): Promise<KeyObject> {
  // Asynchronous: a 4096-bit key can take seconds and must not stall the agent's event loop.
  return (await generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 })).privateKey;
}


/** Generates an ECDSA P-256 key on this host and a PKCS#10 request signed by it. */
export async function createKeyAndCsr(commonName: string): Promise<NewKeyAndCsr> {
  const privateKey = await ecKey('P-256');
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { privateKeyPem, csrPem: await createCsr(privateKeyPem, commonName) };
}

/** A PKCS#10 request for an existing EC P-256 private key (PEM). */
export async function createCsr(privateKeyPem: string, commonName: string): Promise<string> {
  return buildCsr(createPrivateKey(privateKeyPem), ECDSA_WITH_SHA256, commonName.slice(0, 64) || 'certfleet-agent', []);
}

/**
 * Generates a key of `keyType` on this host and a PKCS#10 request signed by it (SHA-256; SHA-384
 * for P-384) that asks for `commonName` and a subjectAltName with the DNS names and IP addresses.
 * Throws before generating anything when a name is malformed.
 */
export async function createKeyAndCsrFor(request: KeyAndCsrRequest): Promise<NewKeyAndCsr> {
  const spec = Object.prototype.hasOwnProperty.call(KEY_TYPES, request.keyType) ? KEY_TYPES[request.keyType] : undefined;
  if (!spec) {
    throw new Error(`unsupported key type "${request.keyType}": use ${CSR_KEY_TYPES.join(', ')}`);
  }
  const commonName = request.commonName ?? '';
  if (commonName.length > 64) throw new Error(`common name is longer than 64 characters: ${commonName.slice(0, 80)}...`);
  if (/[\u0000-\u001f\u007f]/.test(commonName)) throw new Error('common name contains control characters');
  const dnsNames = request.dnsNames.map(checkDnsName);
  const ipAddresses = request.ipAddresses.map(checkIpAddress);
  if (!commonName && dnsNames.length === 0 && ipAddresses.length === 0) {
    throw new Error('a CSR needs a common name, a DNS name or an IP address');
  }
  const altNames = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const privateKey = await spec.generate();
  const csrPem = buildCsr(privateKey, spec.params, commonName || undefined, altNames);
  return { privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), csrPem };
}

// Letters, digits, hyphens inside, underscores allowed (service labels); "*" only as the whole
// leftmost label of a name with at least two more labels.
const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

function checkDnsName(name: string): string {
  const labels = name.split('.');
  const ok =
    name.length > 0 &&
    name.length <= 253 &&
    labels.every((label, i) => DNS_LABEL.test(label) || (i === 0 && label === '*' && labels.length > 2));
  if (!ok) throw new Error(`not a DNS name: ${JSON.stringify(name.slice(0, 260))}`);
  return name.toLowerCase();
}

function checkIpAddress(address: string): string {
  if (isIP(address) === 0) throw new Error(`not an IP address: ${JSON.stringify(address.slice(0, 60))}`);
  return address;
}

const COMMON_NAME = objectIdentifier('2.5.4.3');
const EXTENSION_REQUEST = objectIdentifier('1.2.840.113549.1.9.14');
const SUBJECT_ALT_NAME = objectIdentifier('2.5.29.17');

/**
 * PKCS#10 (RFC 2986) written with pki's DER encoder and signed by node's crypto: a fraction of a
 * millisecond, where a generic ASN.1 library took several (it matters on small IoT gateways).
 * Subject: the CN or empty; one extensionRequest attribute with the subjectAltName when names are given.
 */
function buildCsr(privateKey: KeyObject, params: SigningParams, commonName: string | undefined, altNames: { type: 'dns' | 'ip'; value: string }[]): string {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const subject = sequence(commonName ? [setOf([sequence([COMMON_NAME, utf8String(commonName)])])] : []);
  const generalNames = altNames.map((n) => (n.type === 'dns' ? ia5String(n.value, contextTag(2, false)) : implicitPrimitive(7, ipBytes(n.value))));
  const attributes = generalNames.length ? [sequence([EXTENSION_REQUEST, setOf([sequence([sequence([SUBJECT_ALT_NAME, octetString(sequence(generalNames))])])])])] : [];
  const info = sequence([smallInteger(0), subject, spki, tlv(contextTag(0, true), attributes)]);
  const signature = sign(params.hash, info, privateKey); // ECDSA: DER (r, s), as X.509 wants; RSA: PKCS#1 v1.5
  const der = sequence([info, params.algorithm, bitString(signature)]);
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE REQUEST-----\n`;
}

function ipBytes(address: string): Buffer {
  const bytes = ipAddressBytes(address);
  if (!bytes) throw new Error(`not an IP address: ${JSON.stringify(address.slice(0, 60))}`);
  return bytes;
}
