// Checks install material before anything touches the disk: exactly one certificate, a chain of
// zero or more certificates, one private key that matches the certificate. Native crypto only.
import { X509Certificate, createPrivateKey, KeyObject } from 'node:crypto';
import { InvalidMaterialError } from './errors';
import type { InstallMaterial } from './types';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]*?-----END \1-----/g;

export interface CheckedMaterial {
  /** Normalised PEM: one block per certificate, '\n' line ends, trailing newline. */
  certificatePem: string;
  /** '' when there is no chain. */
  chainPem: string;
  privateKeyPem: string;
  certificateDer: Buffer;
  chainDer: Buffer[];
  privateKey: KeyObject;
}

function pemBlocks(text: string, what: string): { label: string; pem: string }[] {
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1], pem: `${m[0].replace(/\r\n/g, '\n')}\n` }));
  const leftover = text.replace(PEM_BLOCK, '').trim();
  if (leftover !== '') throw new InvalidMaterialError(`${what}: unexpected text outside PEM blocks`);
  return blocks;
}

function certificates(text: string, what: string): { pem: string; der: Buffer }[] {
  return pemBlocks(text, what).map(({ label, pem }) => {
    if (label !== 'CERTIFICATE') throw new InvalidMaterialError(`${what}: expected CERTIFICATE blocks, found ${label}`);
    try {
      return { pem, der: new X509Certificate(pem).raw };
    } catch (error) {
      throw new InvalidMaterialError(`${what}: not a parseable certificate (${(error as Error).message})`);
    }
  });
}

export function checkMaterial(material: InstallMaterial): CheckedMaterial {
  const leaf = certificates(material.certificatePem, 'certificate');
  if (leaf.length !== 1) throw new InvalidMaterialError(`certificate: expected exactly one PEM block, found ${leaf.length}`);
  const chain = certificates(material.chainPem, 'chain');
  const keyBlocks = pemBlocks(material.privateKeyPem, 'private key');
  if (keyBlocks.length !== 1 || !keyBlocks[0].label.endsWith('PRIVATE KEY') || keyBlocks[0].label.includes('ENCRYPTED')) {
    throw new InvalidMaterialError('private key: expected exactly one unencrypted PRIVATE KEY block');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyBlocks[0].pem);
  } catch (error) {
    throw new InvalidMaterialError(`private key: not parseable (${(error as Error).message})`);
  }
  if (!new X509Certificate(leaf[0].pem).checkPrivateKey(privateKey)) {
    throw new InvalidMaterialError('private key does not match the certificate');
  }
  return {
    certificatePem: leaf[0].pem,
    chainPem: chain.map((c) => c.pem).join(''),
    privateKeyPem: keyBlocks[0].pem,
    certificateDer: leaf[0].der,
    chainDer: chain.map((c) => c.der),
    privateKey,
  };
}
