import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createTarget, InvalidMaterialError, installTargets } from './index';
import { makeChain, TestChain, Workdir } from './testing/openssl-kit';

const dir = new Workdir();
let material: TestChain;
let other: TestChain;

beforeAll(() => {
  material = makeChain(dir, 'site');
  other = makeChain(dir, 'other', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
});
afterAll(() => dir.remove());

const mode = (path: string) => statSync(path).mode & 0o777;
const pemBlocks = (text: string) => [...text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----\n/g)].map((m) => ({ label: m[1], pem: m[0] }));
let n = 0;
const fresh = (name: string) => {
  n += 1;
  mkdirSync(dir.file(`case${n}`));
  return dir.file(`case${n}/${name}`);
};

describe('pem-files', () => {
  it('writes certificate, key and chain to their own files with 0644/0600', async () => {
    const spec = { kind: 'pem-files' as const, certPath: fresh('cert.pem'), keyPath: fresh('key.pem'), chainPath: fresh('chain.pem') };
    const tx = await installTargets([spec], material);
    await tx.commit();

    expect(dir.fingerprint(readFileSync(spec.certPath, 'utf8'))).toBe(dir.fingerprint(material.certificatePem));
    expect(dir.openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', spec.certPath])).toContain(dir.fingerprint(material.certificatePem));
    expect(dir.publicKeyOfKey(readFileSync(spec.keyPath, 'utf8'))).toBe(dir.publicKeyOfCertificate(material.certificatePem));
    expect(dir.fingerprint(readFileSync(spec.chainPath, 'utf8'))).toBe(dir.fingerprint(material.intermediatePem));
    expect(pemBlocks(readFileSync(spec.certPath, 'utf8'))).toHaveLength(1);
    expect([mode(spec.certPath), mode(spec.keyPath), mode(spec.chainPath)]).toEqual([0o644, 0o600, 0o644]);
    // openssl agrees the installed files form a valid path to the root
    expect(dir.openssl(['verify', '-CAfile', dir.file('site-root.pem'), '-untrusted', spec.chainPath, spec.certPath])).toContain('OK');
  });

  it('refuses a chain file when the material has no chain, writing nothing', async () => {
    const spec = { kind: 'pem-files' as const, certPath: fresh('cert.pem'), keyPath: fresh('key.pem'), chainPath: fresh('chain.pem') };
    await expect(installTargets([spec], { ...material, chainPem: '' })).rejects.toThrow(/no chain/);
    expect([spec.certPath, spec.keyPath, spec.chainPath].some(existsSync)).toBe(false);
  });
});

describe('fullchain-pem', () => {
  it('writes the certificate then the chain, and the key apart', async () => {
    const spec = { kind: 'fullchain-pem' as const, path: fresh('fullchain.pem'), keyPath: fresh('privkey.pem') };
    await installTargets([spec], material);

    const blocks = pemBlocks(readFileSync(spec.path, 'utf8'));
    expect(blocks.map((b) => dir.fingerprint(b.pem))).toEqual([dir.fingerprint(material.certificatePem), dir.fingerprint(material.intermediatePem)]);
    expect(dir.openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', spec.path]).trim()).toBe(dir.fingerprint(material.certificatePem));
    expect(dir.publicKeyOfKey(readFileSync(spec.keyPath, 'utf8'))).toBe(dir.publicKeyOfCertificate(material.certificatePem));
    expect([mode(spec.path), mode(spec.keyPath)]).toEqual([0o644, 0o600]);
  });
});

describe('combined-pem', () => {
  it('writes certificate, chain, key in that order into one 0600 file', async () => {
    const spec = { kind: 'combined-pem' as const, path: fresh('haproxy.pem') };
    await installTargets([spec], material);

    const text = readFileSync(spec.path, 'utf8');
    const blocks = pemBlocks(text);
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'CERTIFICATE', 'PRIVATE KEY']);
    expect(dir.fingerprint(blocks[0].pem)).toBe(dir.fingerprint(material.certificatePem));
    expect(dir.fingerprint(blocks[1].pem)).toBe(dir.fingerprint(material.intermediatePem));
    expect(dir.openssl(['pkey', '-pubout', '-in', spec.path])).toBe(dir.publicKeyOfCertificate(material.certificatePem));
    expect(mode(spec.path)).toBe(0o600);
  });
});

describe('pkcs12', () => {
  it.each([
    ['an RSA leaf', () => material],
    ['an EC leaf', () => other],
  ])('writes %s as a P12 OpenSSL 3 reads with the password (key + cert + chain) and rejects a wrong one', async (_name, pick) => {
    const chain = pick();
    const spec = { kind: 'pkcs12' as const, path: fresh('store.p12'), password: 'correct horse', alias: 'web' };
    await installTargets([spec], chain);

    const out = dir.openssl(['pkcs12', '-in', spec.path, '-passin', 'pass:correct horse', '-nodes']);
    const blocks = pemBlocks(out);
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => dir.fingerprint(b.pem));
    expect(certs.sort()).toEqual([dir.fingerprint(chain.certificatePem), dir.fingerprint(chain.intermediatePem)].sort());
    const keys = blocks.filter((b) => b.label === 'PRIVATE KEY');
    expect(keys).toHaveLength(1);
    expect(dir.publicKeyOfKey(keys[0].pem)).toBe(dir.publicKeyOfCertificate(chain.certificatePem));
    expect(out).toContain('friendlyName: web');

    const info = dir.attempt(['pkcs12', '-in', spec.path, '-passin', 'pass:correct horse', '-info', '-noout']); // -info prints on stderr
    expect(info.status).toBe(0);
    expect(info.output).toMatch(/MAC: sha256/);
    expect(info.output).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);

    const wrong = dir.attempt(['pkcs12', '-in', spec.path, '-passin', 'pass:wrong', '-nodes']);
    expect(wrong.status).not.toBe(0);
    expect(wrong.output).toMatch(/Mac verify error/);
    expect(mode(spec.path)).toBe(0o600);
  });

  it('writes a P12 without chain when the material has none', async () => {
    const spec = { kind: 'pkcs12' as const, path: fresh('leaf-only.p12'), password: 'pw' };
    await installTargets([spec], { ...material, chainPem: '' });
    const out = dir.openssl(['pkcs12', '-in', spec.path, '-passin', 'pass:pw', '-nodes']);
    expect(pemBlocks(out).map((b) => b.label).sort()).toEqual(['CERTIFICATE', 'PRIVATE KEY']);
  });
});

describe('material checks (nothing is written)', () => {
  const spec = () => ({ kind: 'combined-pem' as const, path: fresh('x.pem') });

  it('rejects a key that does not belong to the certificate', async () => {
    const s = spec();
    await expect(installTargets([s], { ...material, privateKeyPem: other.privateKeyPem })).rejects.toThrow(InvalidMaterialError);
    expect(existsSync(s.path)).toBe(false);
  });

  it('rejects two certificates where one is expected, and non-certificate chain blocks', async () => {
    await expect(createTarget(spec()).plan({ ...material, certificatePem: material.certificatePem + material.chainPem })).rejects.toThrow(/exactly one/);
    await expect(createTarget(spec()).plan({ ...material, chainPem: material.privateKeyPem })).rejects.toThrow(/expected CERTIFICATE/);
    await expect(createTarget(spec()).plan({ ...material, chainPem: 'garbage' })).rejects.toThrow(/outside PEM/);
  });

  it('describes each kind in one line', () => {
    expect(createTarget({ kind: 'pem-files', certPath: '/c', keyPath: '/k' }).describe()).toBe('PEM files: certificate /c, key /k');
    expect(createTarget({ kind: 'pkcs12', path: '/p.p12', password: 'x' }).describe()).toBe('PKCS#12 /p.p12');
  });
});
