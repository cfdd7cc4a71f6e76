// Private keys: PKCS#8 (plain and encrypted), traditional RSA/EC/DSA PEM (plain and with
// Proc-Type encryption) and keys taken out of keystores. Node's crypto does the parsing and
// decryption; a key is described by its algorithm and the hash of its public key.
import { KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { describeKey, sha256Hex } from './key-info';
import { DiscoveredFileInfo, DiscoveredPrivateKey } from './types';

export type KeyInput =
  | { pem: string }
  | { der: Buffer; type: 'pkcs8' | 'pkcs1' | 'sec1' };

export type KeyReadOutcome =
  | { ok: true; key: DiscoveredPrivateKey }
  | { ok: false; kind: 'corrupt' | 'unsupported'; reason: string };

export function keyFinding(key: KeyObject, encrypted: boolean, file: DiscoveredFileInfo | undefined): DiscoveredPrivateKey {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return { file, ...describeKey(key), encrypted, publicKeySha256: sha256Hex(spki), paired: false };
}

/** An encrypted key no configured password opens: reported, but nothing about it is known. */
export function lockedKeyFinding(file: DiscoveredFileInfo | undefined): DiscoveredPrivateKey {
  return { file, keyAlgorithm: '', keySize: 0, keyCurve: '', encrypted: true, publicKeySha256: '', paired: false };
}

export function readPrivateKey(
  input: KeyInput,
  encrypted: boolean,
  passwords: string[],
  file: DiscoveredFileInfo | undefined,
): KeyReadOutcome {
  const source = 'pem' in input ? { key: input.pem, format: 'pem' as const } : { key: input.der, format: 'der' as const, type: input.type };
  if (!encrypted) {
    try {
      return { ok: true, key: keyFinding(createPrivateKey(source), false, file) };
    } catch (error) {
      return failure(error);
    }
  }
  for (const passphrase of ['', ...passwords]) {
    try {
      return { ok: true, key: keyFinding(createPrivateKey({ ...source, passphrase }), true, file) };
    } catch (error) {
      if (isUnsupported(error)) return failure(error);
    }
  }
  return { ok: true, key: lockedKeyFinding(file) };
}

function isUnsupported(error: unknown): boolean {
  return /unsupported/i.test(String((error as Error)?.message));
}

function failure(error: unknown): KeyReadOutcome {
  const message = (error as Error)?.message ?? String(error);
  return isUnsupported(error)
    ? { ok: false, kind: 'unsupported', reason: `private key uses an unsupported algorithm or encryption (${message})` }
    : { ok: false, kind: 'corrupt', reason: `private key does not decode (${message})` };
}
