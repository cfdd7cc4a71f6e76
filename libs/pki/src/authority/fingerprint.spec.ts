import { X509Certificate } from 'node:crypto';
import { createFleetCa } from './fleet-ca';
import { formatFingerprint, normaliseFingerprint, sha256Fingerprint } from './fingerprint';
import { OpensslDir } from './openssl-test-kit';

describe('fingerprints', () => {
  const dir = new OpensslDir();
  afterAll(() => dir.remove());

  it('match openssl for PEM and DER input, in both spellings', async () => {
    const ca = await createFleetCa({ commonName: 'fp CA' });
    dir.write('ca.pem', ca.certificatePem);
    const opensslForm = dir.run('x509', '-in', 'ca.pem', '-noout', '-fingerprint', '-sha256').trim().split('=')[1];

    const hex = sha256Fingerprint(ca.certificatePem);
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256Fingerprint(new X509Certificate(ca.certificatePem).raw)).toBe(hex);
    expect(formatFingerprint(hex)).toBe(opensslForm);
    expect(hex).toBe(opensslForm.replace(/:/g, '').toLowerCase());
  });

  it('normalise accepts hex or colon form, any case, with or without a sha256 prefix', () => {
    const hex = 'ab'.repeat(16) + '0123456789abcdef'.repeat(2);
    const colons = formatFingerprint(hex);
    expect(colons).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    for (const input of [hex, hex.toUpperCase(), colons, colons.toLowerCase(), `sha256:${hex}`, `SHA256:${colons}`, ` SHA256=${colons}\n`]) {
      expect(normaliseFingerprint(input)).toBe(hex);
    }
  });

  it('normalise rejects wrong lengths, non-hex and misplaced colons', () => {
    const hex = 'cd'.repeat(32);
    for (const bad of ['', hex.slice(2), `${hex}00`, `${hex.slice(1)}g`, `sha1:${hex}`, `${hex.slice(0, 3)}:${hex.slice(3)}`]) {
      expect(() => normaliseFingerprint(bad)).toThrow(/not a SHA-256 fingerprint/);
    }
  });

  it('refuses input that is not exactly one certificate', () => {
    expect(() => sha256Fingerprint('garbage')).toThrow(/not PEM/);
    expect(() => sha256Fingerprint('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')).toThrow(/expected PEM type CERTIFICATE/);
  });
});
