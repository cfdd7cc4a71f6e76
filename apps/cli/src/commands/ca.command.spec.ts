import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caCommand } from './ca.command';

describe('certfleet ca (offline root flow)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-ca-'));
  const pass = join(dir, 'passphrase');
  beforeAll(() => writeFileSync(pass, 'a long enough passphrase\n', { mode: 0o600 }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const quiet = () => jest.spyOn(console, 'log').mockImplementation(() => undefined);

  it('creates a root offline and signs an issuing CA CSR made by openssl; openssl verifies it', async () => {
    quiet();
    const out = join(dir, 'root');
    expect(await caCommand(['init-root', '--cn', 'Lab Root', '--org', 'Lab', '--out', out, '--passphrase-file', pass])).toBe(0);
    expect(statSync(join(out, 'root-ca.key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'root-ca.key.pem'), 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');

    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'issuing.key'),
      '-subj', '/O=Lab/CN=Lab Issuing CA', '-out', join(dir, 'issuing.csr')], { stdio: 'ignore' });
    const args = ['sign-intermediate', '--root-cert', join(out, 'root-ca.pem'), '--root-key', join(out, 'root-ca.key.pem'), '--csr', join(dir, 'issuing.csr'), '--passphrase-file', pass];
    expect(await caCommand([...args, '--out', join(dir, 'issuing.pem'), '--days', '400'])).toBe(0);
    const verified = execFileSync('openssl', ['verify', '-CAfile', join(out, 'root-ca.pem'), join(dir, 'issuing.pem')], { encoding: 'utf8' });
    expect(verified).toContain('issuing.pem: OK');
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'issuing.pem'), '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toContain('CA:TRUE, pathlen:0');
    expect(text).toContain('Subject: O = Lab, CN = Lab Issuing CA');
  });

  it('refuses to overwrite a root, a wrong passphrase, and a missing passphrase', async () => {
    quiet();
    const out = join(dir, 'root2');
    expect(await caCommand(['init-root', '--cn', 'R2', '--out', out, '--passphrase-file', pass])).toBe(0);
    await expect(caCommand(['init-root', '--cn', 'R2', '--out', out, '--passphrase-file', pass])).rejects.toThrow('refusing to overwrite');
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not the right passphrase');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'i2.key'),
      '-subj', '/CN=I2', '-out', join(dir, 'i2.csr')], { stdio: 'ignore' });
    const target = join(dir, 'i2.pem');
    await expect(
      caCommand(['sign-intermediate', '--root-cert', join(out, 'root-ca.pem'), '--root-key', join(out, 'root-ca.key.pem'), '--csr', join(dir, 'i2.csr'), '--passphrase-file', wrong, '--out', target]),
    ).rejects.toThrow('wrong passphrase');
    expect(existsSync(target)).toBe(false);
    const saved = process.env.CERTFLEET_ROOT_PASSPHRASE;
    delete process.env.CERTFLEET_ROOT_PASSPHRASE;
    await expect(caCommand(['init-root', '--cn', 'R3', '--out', join(dir, 'root3')])).rejects.toThrow('passphrase is needed');
    process.env.CERTFLEET_ROOT_PASSPHRASE = saved;
  });
});
