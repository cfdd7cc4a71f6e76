import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyAndCsr } from './csr-builder';

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
