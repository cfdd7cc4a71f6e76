import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueServerCertificate } from '../authority/server-certificate';
import { CaMaterialError } from '../authority/errors';
import { createIssuingCaRequest, createRootCa, decryptWithPassphrase, encryptWithPassphrase, signIntermediate } from './ca-hierarchy';

describe('offline root and issuing CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ca-hierarchy-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds root -> issuing CA -> leaf, and openssl verifies the chain', async () => {
    const root = await createRootCa({ commonName: 'Example Root CA', organization: 'Example', country: 'DE' });
    const request = await createIssuingCaRequest({ commonName: 'Example Issuing CA prod', organization: 'Example' });
    const intermediatePem = await signIntermediate(root, request.csrPem, { validityDays: 365 });
    const leaf = await issueServerCertificate({
      ca: { certificatePem: intermediatePem, privateKeyPem: request.privateKeyPem },
      commonName: 'www.example.test',
      dnsNames: ['www.example.test'],
      validityDays: 30,
    });
    const rootFile = file('root.pem', root.certificatePem);
    const intFile = file('int.pem', intermediatePem);
    const leafFile = file('leaf.pem', leaf.certificatePem);
    expect(openssl('verify', '-CAfile', rootFile, '-untrusted', intFile, leafFile)).toContain(': OK');
    expect(spawnSync('openssl', ['verify', '-CAfile', intFile, leafFile]).status).not.toBe(0); // the root is needed

    const rootText = openssl('x509', '-in', rootFile, '-noout', '-text');
    expect(rootText).toMatch(/CA:TRUE, pathlen:1/);
    expect(rootText).toContain('secp384r1');
    expect(rootText).toContain('Subject: C = DE, O = Example, CN = Example Root CA');
    const intText = openssl('x509', '-in', intFile, '-noout', '-text');
    expect(intText).toMatch(/CA:TRUE, pathlen:0/);
    expect(intText).toContain('Certificate Sign, CRL Sign');
    expect(intText).toContain('Subject: O = Example, CN = Example Issuing CA prod');
    expect(intText).toContain('ecdsa-with-SHA384'); // signed by the P-384 root
  });

  it('keeps the root key only passphrase-encrypted, in a form openssl reads', async () => {
    const root = await createRootCa({ commonName: 'Passphrase Root' }, { curve: 'P-256' });
    const encrypted = encryptWithPassphrase(root.privateKeyPem, 'correct horse battery');
    expect(encrypted).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    const keyFile = file('root-key.enc.pem', encrypted);
    const pub = openssl('pkey', '-in', keyFile, '-passin', 'pass:correct horse battery', '-pubout');
    expect(pub).toContain('BEGIN PUBLIC KEY');
    expect(spawnSync('openssl', ['pkey', '-in', keyFile, '-passin', 'pass:wrong passphrase!']).status).not.toBe(0);
    expect(decryptWithPassphrase(encrypted, 'correct horse battery')).toBe(root.privateKeyPem);
    expect(() => decryptWithPassphrase(encrypted, 'wrong passphrase!')).toThrow(CaMaterialError);
    expect(() => encryptWithPassphrase(root.privateKeyPem, 'short')).toThrow('at least 12 characters');
  });

  it('refuses to sign a tampered CSR, and an issuing CA cannot sign another CA', async () => {
    const root = await createRootCa({ commonName: 'Strict Root' }, { curve: 'P-256' });
    const request = await createIssuingCaRequest({ commonName: 'Issuing' });
    const lines = request.csrPem.trim().split('\n');
    const body = lines.slice(1, -1).join('');
    const der = Buffer.from(body, 'base64');
    der[der.length - 5] ^= 0xff; // corrupt the signature
    const tampered = `${lines[0]}\n${der.toString('base64')}\n${lines[lines.length - 1]}\n`;
    await expect(signIntermediate(root, tampered)).rejects.toThrow();

    const intermediatePem = await signIntermediate(root, request.csrPem);
    const another = await createIssuingCaRequest({ commonName: 'Sub-issuing' });
    await expect(signIntermediate({ certificatePem: intermediatePem, privateKeyPem: request.privateKeyPem }, another.csrPem)).rejects.toThrow(
      'pathLen 0',
    );
  });
});
