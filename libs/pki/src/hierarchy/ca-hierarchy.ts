// The internal PKI the way PKI engineers run it: a root CA created offline whose key stays in a
// passphrase-encrypted file the operator keeps, and issuing CAs whose keys are generated where they
// will be used; the root signs their CSRs (offline) and the signed certificate is imported.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { DAY_MS, randomSerialHex, validityFromNow } from '../authority/certificate-fields';
import { verifyCsr } from '../authority/csr';
import { CaMaterialError } from '../authority/errors';
import { FleetCaMaterial, loadFleetCa } from '../authority/fleet-ca';
import { toPem } from '../authority/pem';
import { importSigningKey } from '../authority/signing-keys';
import { webcrypto, x509 } from '../authority/x509-runtime';

export type CaCurve = 'P-256' | 'P-384';

export interface CaName {
  commonName: string;
  organization?: string;
  country?: string;
}

function dn({ commonName, organization, country }: CaName): Record<string, string[]>[] {
  if (!commonName.trim()) throw new Error('a CA needs a non-empty common name');
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) throw new Error(`country must be two capital letters, got "${country}"`);
  return [
    ...(country ? [{ C: [country] }] : []),
    ...(organization ? [{ O: [organization] }] : []),
    { CN: [commonName] },
  ];
}

function newEcKey(curve: CaCurve): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

const WEBCRYPTO_CURVE: Record<string, CaCurve> = { prime256v1: 'P-256', secp384r1: 'P-384' };

/** The key as WebCrypto wants it for signing a certificate or a CSR. */
async function keyPairFor(privateKeyPem: string) {
  const signing = await importSigningKey(privateKeyPem);
  const namedCurve = WEBCRYPTO_CURVE[createPrivateKey(privateKeyPem).asymmetricKeyDetails?.namedCurve ?? ''];
  const publicKey = await webcrypto.subtle.importKey('spki', signing.publicKeySpki, { name: 'ECDSA', namedCurve }, true, ['verify']);
  return { signing, publicKey };
}

/**
 * A self-signed root CA (default ECDSA P-384, 20 years, pathLen 1 so it can sign issuing CAs but
 * they can sign only end entities). Returns the key unencrypted: callers write it with
 * `encryptWithPassphrase` and keep it offline.
 */
export async function createRootCa(
  name: CaName,
  { curve = 'P-384', validityDays = 7300, now = new Date() }: { curve?: CaCurve; validityDays?: number; now?: Date } = {},
): Promise<FleetCaMaterial> {
  const privateKeyPem = newEcKey(curve);
  const { signing, publicKey } = await keyPairFor(privateKeyPem);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: dn(name),
      ...validityFromNow(validityDays * DAY_MS, now),
      keys: { privateKey: signing.privateKey, publicKey },
      signingAlgorithm: signing.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certificatePem: toPem(certificate.rawData, 'CERTIFICATE'), privateKeyPem };
}

/** An issuing CA's key (generated here, never leaving) and the CSR the offline root will sign. */
export async function createIssuingCaRequest(name: CaName, curve: CaCurve = 'P-256'): Promise<{ privateKeyPem: string; csrPem: string }> {
  const privateKeyPem = newEcKey(curve);
  const { signing, publicKey } = await keyPairFor(privateKeyPem);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: dn(name), keys: { privateKey: signing.privateKey, publicKey }, signingAlgorithm: signing.signingAlgorithm },
    webcrypto,
  );
  return { privateKeyPem, csrPem: csr.toString('pem') + '\n' };
}

/**
 * The root signs an issuing CA's CSR (proof of possession checked): CA:TRUE pathLen 0, keyCertSign
 * and cRLSign, the subject the CSR asks for, validity clamped to the root's own.
 */
export async function signIntermediate(
  root: FleetCaMaterial,
  csrPem: string,
  { validityDays = 1825, now = new Date() }: { validityDays?: number; now?: Date } = {},
): Promise<string> {
  const csr = await verifyCsr(csrPem);
  if (csr.keyAlgorithm === 'RSA' && csr.keySize < 3072) throw new CaMaterialError('an issuing CA key must be EC or RSA of at least 3072 bits');
  const issuer = await loadFleetCa(root);
  const rootConstraints = issuer.certificate.getExtension(x509.BasicConstraintsExtension);
  if (rootConstraints?.pathLength === 0) throw new CaMaterialError('this CA has pathLen 0: it cannot sign other CAs');
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: csr.request.subjectName,
      issuer: issuer.certificate.subjectName,
      ...validityFromNow(validityDays * DAY_MS, now, issuer.certificate.notAfter),
      publicKey: csr.request.publicKey,
      signingKey: issuer.signingKey.privateKey,
      signingAlgorithm: issuer.signingKey.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(csr.request.publicKey, false, webcrypto),
        issuer.authorityKeyIdentifier,
      ],
    },
    webcrypto,
  );
  return toPem(certificate.rawData, 'CERTIFICATE');
}

/** OpenSSL-compatible encrypted PKCS#8 (PBES2, AES-256-CBC): what `openssl pkey -passin` reads. */
export function encryptWithPassphrase(privateKeyPem: string, passphrase: string): string {
  if (passphrase.length < 12) throw new Error('the passphrase must be at least 12 characters');
  return createPrivateKey(privateKeyPem)
    .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase })
    .toString();
}

export function decryptWithPassphrase(encryptedPem: string, passphrase: string): string {
  try {
    return createPrivateKey({ key: encryptedPem, format: 'pem', passphrase }).export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new CaMaterialError('cannot decrypt the CA key: wrong passphrase, or not an encrypted private key');
  }
}
