import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { x509 } from '../authority/x509-runtime';

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

type SigningParams = { name: 'ECDSA'; namedCurve: string; hash: string } | { name: 'RSASSA-PKCS1-v1_5'; hash: string };

const KEY_TYPES: Record<CsrKeyType, { generate: () => Promise<KeyObject>; params: SigningParams }> = {
  'ec-p256': { generate: () => ecKey('P-256'), params: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } },
  'ec-p384': { generate: () => ecKey('P-384'), params: { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } },
  'rsa-2048': { generate: () => rsaKey(2048), params: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
  'rsa-3072': { generate: () => rsaKey(3072), params: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
  'rsa-4096': { generate: () => rsaKey(4096), params: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
};

const generateKeyPairAsync = promisify(generateKeyPair);

async function ecKey(namedCurve: 'P-256' | 'P-384'): Promise<KeyObject> {
  return (await generateKeyPairAsync('ec', { namedCurve })).privateKey;
}

async function rsaKey(modulusLength: number): Promise<KeyObject> {
  // Asynchronous: a 4096-bit key can take seconds and must not stall the agent's event loop.
  return (await generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 })).privateKey;
}

const ECDSA_P256: SigningParams = KEY_TYPES['ec-p256'].params;

/** Generates an ECDSA P-256 key on this host and a PKCS#10 request signed by it. */
export async function createKeyAndCsr(commonName: string): Promise<NewKeyAndCsr> {
  const privateKey = await ecKey('P-256');
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { privateKeyPem, csrPem: await createCsr(privateKeyPem, commonName) };
}

/** A PKCS#10 request for an existing EC P-256 private key (PEM). */
export async function createCsr(privateKeyPem: string, commonName: string): Promise<string> {
  return buildCsr(createPrivateKey(privateKeyPem), ECDSA_P256, [{ CN: [commonName.slice(0, 64) || 'certfleet-agent'] }], []);
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
  const csrPem = await buildCsr(privateKey, spec.params, commonName ? [{ CN: [commonName] }] : [], altNames);
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

async function buildCsr(
  privateKey: KeyObject,
  params: SigningParams,
  name: Record<string, string[]>[],
  altNames: { type: 'dns' | 'ip'; value: string }[],
): Promise<string> {
  const subtle = webcrypto.subtle;
  const keys = {
    privateKey: await subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), params, false, ['sign']),
    publicKey: await subtle.importKey('spki', createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), params, true, ['verify']),
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name,
      keys,
      signingAlgorithm: params,
      extensions: altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : [],
    },
    webcrypto as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1],
  );
  return csr.toString('pem');
}
