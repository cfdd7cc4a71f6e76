import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyAndCsr, createKeyAndCsrFor, CsrKeyType } from './csr-builder';

describe('createKeyAndCsr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csr-builder-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a P-256 key and a CSR that openssl verifies and that carries the key and name', async () => {
    const { privateKeyPem, csrPem } = await createKeyAndCsr('web-01.example.net');
    writeFileSync(join(dir, 'req.pem'), csrPem);
    writeFileSync(join(dir, 'key.pem'), privateKeyPem, { mode: 0o600 });
    const text = execFileSync('openssl', ['req', '-in', join(dir, 'req.pem'), '-noout', '-verify', '-text'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(text).toContain('CN = web-01.example.net');
    expect(text).toContain('prime256v1');
    const csrPub = execFileSync('openssl', ['req', '-in', join(dir, 'req.pem'), '-noout', '-pubkey'], { encoding: 'utf8' });
    const keyPub = execFileSync('openssl', ['pkey', '-in', join(dir, 'key.pem'), '-pubout'], { encoding: 'utf8' });
    expect(csrPub).toBe(keyPub);
  });
});

describe('createKeyAndCsrFor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csr-for-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `openssl req -verify -text` on the CSR (throws unless the self-signature verifies) and the public keys of CSR and key. */
  function inspect(name: string, csrPem: string, privateKeyPem: string): { text: string; verify: string; csrPub: string; keyPub: string } {
    const req = join(dir, `${name}.csr`);
    const key = join(dir, `${name}.key`);
    writeFileSync(req, csrPem);
    writeFileSync(key, privateKeyPem, { mode: 0o600 });
    const run = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const verify = execFileSync('sh', ['-c', 'openssl req -in "$1" -noout -verify 2>&1', 'sh', req], { encoding: 'utf8' });
    return {
      text: run(['req', '-in', req, '-noout', '-verify', '-text']),
      verify,
      csrPub: run(['req', '-in', req, '-noout', '-pubkey']),
      keyPub: run(['pkey', '-in', key, '-pubout']),
    };
  }

  const cases: [CsrKeyType, string[], string][] = [
    ['ec-p256', ['ASN1 OID: prime256v1', 'Public-Key: (256 bit)'], 'ecdsa-with-SHA256'],
    ['ec-p384', ['ASN1 OID: secp384r1', 'Public-Key: (384 bit)'], 'ecdsa-with-SHA384'],
    ['rsa-2048', ['rsaEncryption', 'Public-Key: (2048 bit)', 'Exponent: 65537'], 'sha256WithRSAEncryption'],
    ['rsa-3072', ['rsaEncryption', 'Public-Key: (3072 bit)'], 'sha256WithRSAEncryption'],
    ['rsa-4096', ['rsaEncryption', 'Public-Key: (4096 bit)'], 'sha256WithRSAEncryption'],
  ];

  it.each(cases)('%s: the key type, hash and SANs openssl reads back, signed by the returned key', async (keyType, keyLines, signature) => {
    const { privateKeyPem, csrPem } = await createKeyAndCsrFor({
      keyType,
      commonName: 'www.example.net',
      dnsNames: ['www.example.net', 'Example.NET', '*.api.example.net'],
      ipAddresses: ['192.0.2.10', '2001:db8::42'],
    });
    const { text, verify, csrPub, keyPub } = inspect(keyType, csrPem, privateKeyPem);
    expect(verify).toMatch(/verify OK/);
    expect(text).toContain('Subject: CN = www.example.net');
    for (const line of keyLines) expect(text).toContain(line);
    expect(text).toContain(`Signature Algorithm: ${signature}`);
    expect(text).toContain('X509v3 Subject Alternative Name');
    expect(text).toContain('DNS:www.example.net, DNS:example.net, DNS:*.api.example.net, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:42');
    expect(csrPub).toBe(keyPub);
    expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('leaves the subject empty without a common name and still asks for the SANs', async () => {
    const { privateKeyPem, csrPem } = await createKeyAndCsrFor({ keyType: 'ec-p256', dnsNames: [], ipAddresses: ['10.1.2.3'] });
    const { text, verify } = inspect('no-cn', csrPem, privateKeyPem);
    expect(verify).toMatch(/verify OK/);
    expect(text).toMatch(/Subject: *\n/);
    expect(text).toContain('IP Address:10.1.2.3');
    expect(text).not.toContain('DNS:');
  });

  it('makes a new key every time', async () => {
    const request = { keyType: 'ec-p256' as const, dnsNames: ['a.example'], ipAddresses: [] };
    const [a, b] = await Promise.all([createKeyAndCsrFor(request), createKeyAndCsrFor(request)]);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
  });

  it.each([
    [{ keyType: 'dsa-1024' as CsrKeyType, dnsNames: ['a.example'], ipAddresses: [] }, /unsupported key type "dsa-1024"/],
    [{ keyType: 'toString' as CsrKeyType, dnsNames: ['a.example'], ipAddresses: [] }, /unsupported key type "toString"/],
    [{ keyType: 'ec-p256' as const, dnsNames: ['bad name.example'], ipAddresses: [] }, /not a DNS name: "bad name.example"/],
    [{ keyType: 'ec-p256' as const, dnsNames: ['a..example'], ipAddresses: [] }, /not a DNS name/],
    [{ keyType: 'ec-p256' as const, dnsNames: ['-a.example'], ipAddresses: [] }, /not a DNS name/],
    [{ keyType: 'ec-p256' as const, dnsNames: ['a.*.example'], ipAddresses: [] }, /not a DNS name/],
    [{ keyType: 'ec-p256' as const, dnsNames: [], ipAddresses: ['10.0.0.256'] }, /not an IP address: "10.0.0.256"/],
    [{ keyType: 'ec-p256' as const, commonName: 'x'.repeat(65), dnsNames: ['a.example'], ipAddresses: [] }, /longer than 64/],
    [{ keyType: 'ec-p256' as const, dnsNames: [], ipAddresses: [] }, /needs a common name, a DNS name or an IP address/],
  ])('refuses %j', async (request, message) => {
    await expect(createKeyAndCsrFor(request)).rejects.toThrow(message);
  });
});
