import { randomBytes } from 'node:crypto';
import { createFleetCa } from './fleet-ca';
import { decryptPrivateKey, encryptPrivateKey, keyMaterialId } from './key-encryption';
import { KeyDecryptionError } from './errors';

describe('CA private key encryption at rest', () => {
  const keyMaterial = randomBytes(32);
  let pem: string;

  beforeAll(async () => {
    pem = (await createFleetCa({ commonName: 'enc CA' })).privateKeyPem;
  });

  it('round-trips and never contains the plaintext; each encryption uses a fresh IV', () => {
    const blob = encryptPrivateKey(pem, keyMaterial);
    expect(blob).toMatch(/^cfk1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(blob).not.toContain('PRIVATE KEY');
    expect(decryptPrivateKey(blob, keyMaterial)).toBe(pem);
    expect(decryptPrivateKey(`${blob}\n`, keyMaterial)).toBe(pem);
    const again = encryptPrivateKey(pem, keyMaterial);
    expect(again.split('.')[2]).not.toBe(blob.split('.')[2]);
    expect(decryptPrivateKey(again, keyMaterial)).toBe(pem);
  });

  it('detects a modified ciphertext, IV or key id', () => {
    const [version, keyId, iv, sealed] = encryptPrivateKey(pem, keyMaterial).split('.');
    const flip = (text: string) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[5] ^= 0x40;
      return bytes.toString('base64url');
    };
    expect(() => decryptPrivateKey([version, keyId, iv, flip(sealed)].join('.'), keyMaterial)).toThrow(
      new KeyDecryptionError('authentication failed: the encrypted key was modified or corrupted'),
    );
    expect(() => decryptPrivateKey([version, keyId, flip(iv), sealed].join('.'), keyMaterial)).toThrow(/authentication failed/);
    expect(() => decryptPrivateKey([version, 'ffffffffffffffff', iv, sealed].join('.'), keyMaterial)).toThrow(/wrong key/);
    expect(() => decryptPrivateKey([version, keyId, iv].join('.'), keyMaterial)).toThrow(/expected 4 fields/);
  });

  it('says "wrong key" when decrypting with another key', () => {
    const blob = encryptPrivateKey(pem, keyMaterial);
    const otherKey = randomBytes(32);
    expect(() => decryptPrivateKey(blob, otherKey)).toThrow(KeyDecryptionError);
    expect(() => decryptPrivateKey(blob, otherKey)).toThrow(
      `wrong key: data was encrypted with key id ${keyMaterialId(keyMaterial)}, this key is ${keyMaterialId(otherKey)}`,
    );
  });

  it('refuses unknown formats and key material of the wrong size', () => {
    expect(() => decryptPrivateKey(pem, keyMaterial)).toThrow(/not an encrypted certfleet key/);
    expect(() => decryptPrivateKey('cfk2.x.y.z', keyMaterial)).toThrow(/not an encrypted certfleet key/);
    expect(() => encryptPrivateKey(pem, randomBytes(16))).toThrow(/key material must be 32 bytes, got 16/);
  });
});
