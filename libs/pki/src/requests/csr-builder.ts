import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { x509 } from '../authority/x509-runtime';

export interface NewKeyAndCsr {
  /** PKCS#8 PEM. Callers write it 0600 and never send it anywhere. */
  privateKeyPem: string;
  csrPem: string;
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Generates an ECDSA P-256 key on this host and a PKCS#10 request signed by it. */
export async function createKeyAndCsr(commonName: string): Promise<NewKeyAndCsr> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { privateKeyPem, csrPem: await createCsr(privateKeyPem, commonName) };
}

/** A PKCS#10 request for an existing EC P-256 private key (PEM). */
export async function createCsr(privateKeyPem: string, commonName: string): Promise<string> {
  const key = createPrivateKey(privateKeyPem);
  const subtle = webcrypto.subtle;
  const keys = {
    privateKey: await subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), ECDSA_P256, false, ['sign']),
    publicKey: await subtle.importKey('spki', createPublicKey(key).export({ format: 'der', type: 'spki' }), ECDSA_P256, true, [
      'verify',
    ]),
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: [{ CN: [commonName.slice(0, 64) || 'certfleet-agent'] }], keys, signingAlgorithm: ECDSA_P256 },
    webcrypto as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1],
  );
  return csr.toString('pem');
}
