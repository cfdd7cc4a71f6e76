import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createFleetCa } from './fleet-ca';
import { OpensslDir } from './openssl-test-kit';

describe('createFleetCa', () => {
  const dir = new OpensslDir();
  afterAll(() => dir.remove());

  it('makes a self-signed P-256 CA that OpenSSL reads as CA:TRUE, pathlen 0, keyCertSign+cRLSign', async () => {
    const now = new Date();
    const ca = await createFleetCa({ commonName: 'certfleet test CA' });
    dir.write('ca.pem', ca.certificatePem);
    const text = dir.run('x509', '-in', 'ca.pem', '-noout', '-text');

    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:/);
    expect(text).toMatch(/ASN1 OID: prime256v1/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/Subject: CN ?= ?certfleet test CA/);
    expect(dir.run('verify', '-CAfile', 'ca.pem', 'ca.pem')).toContain('ca.pem: OK');

    const cert = new X509Certificate(ca.certificatePem);
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(now.getTime() - 5 * 60 * 1000 + 1000);
    expect(Date.parse(cert.validFrom)).toBeGreaterThan(now.getTime() - 5 * 60 * 1000 - 5000);
    expect(Date.parse(cert.validTo) - now.getTime()).toBeGreaterThan(3649 * 86400 * 1000);
    expect(cert.checkPrivateKey(createPrivateKey(ca.privateKeyPem))).toBe(true);
    expect(ca.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('gives each CA a different serial and key, and honours validityDays', async () => {
    const a = await createFleetCa({ commonName: 'a', validityDays: 30 });
    const b = await createFleetCa({ commonName: 'b', validityDays: 30 });
    const certA = new X509Certificate(a.certificatePem);
    expect(certA.serialNumber).not.toBe(new X509Certificate(b.certificatePem).serialNumber);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
    const days = (Date.parse(certA.validTo) - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('refuses an empty common name', async () => {
    await expect(createFleetCa({ commonName: '  ' })).rejects.toThrow(/commonName must not be empty/);
  });
});
