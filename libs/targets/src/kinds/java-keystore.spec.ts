import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { readCertificateFile } from '@certfleet/pki';
import { createTarget, installTargets, InvalidTargetError, JavaKeystoreSpec } from '../index';
import { decodeModifiedUtf8, encodeModifiedUtf8 } from '../jks/jks-format';
import { readJks } from '../jks/jks-reader';
import { buildJks } from '../jks/jks-writer';
import { protectKey, recoverKey } from '../jks/key-protector';
import { javaKeystoreTarget } from './java-keystore';
import { makeChain, TestChain, Workdir } from '../testing/openssl-kit';

jest.setTimeout(120_000); // each keytool run starts a JVM

const dir = new Workdir();
const chains = {} as Record<'RSA 2048' | 'EC P-256' | 'EC P-384', TestChain>;

beforeAll(() => {
  chains['RSA 2048'] = makeChain(dir, 'rsa');
  chains['EC P-256'] = makeChain(dir, 'p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
  chains['EC P-384'] = makeChain(dir, 'p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1']);
});
afterAll(() => dir.remove());

let n = 0;
const fresh = (name: string) => {
  n += 1;
  mkdirSync(dir.file(`case${n}`));
  return dir.file(`case${n}/${name}`);
};
/** "AB:CD:..." as keytool prints it, from openssl's "sha256 Fingerprint=AB:CD:...". */
const sha256Colons = (pem: string) => dir.fingerprint(pem).split('=')[1];
const sha256Hex = (pem: string) => sha256Colons(pem).replace(/:/g, '').toLowerCase();
/** Every private-key component, so equal JWKs mean the same key whatever the encoding. */
const keyJwk = (pem: string) => createPrivateKey(pem).export({ format: 'jwk' });
const pemBlocks = (text: string) => [...text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----\n/g)].map((m) => ({ label: m[1], pem: m[0] }));

/** keytool's own export: JKS entry → PKCS#12 → openssl → PEM blocks. */
function exportWithKeytool(path: string, storePassword: string, alias: string, keyPassword?: string) {
  const p12 = `${path}.export.p12`;
  const result = dir.keytool([
    '-importkeystore', '-noprompt', '-srckeystore', path, '-srcstoretype', 'JKS', '-srcstorepass', storePassword, '-srcalias', alias,
    ...(keyPassword === undefined ? [] : ['-srckeypass', keyPassword]),
    '-destkeystore', p12, '-deststoretype', 'PKCS12', '-deststorepass', 'export-pw', '-destkeypass', 'export-pw',
  ]);
  return { ...result, blocks: () => pemBlocks(dir.openssl(['pkcs12', '-in', p12, '-passin', 'pass:export-pw', '-nodes'])) };
}

describe('java-keystore', () => {
  it.each([
    ['RSA 2048', undefined],
    ['EC P-256', undefined],
    ['EC P-384', 'a different key password'],
  ] as const)('writes a %s key as a JKS keytool lists, exports and verifies (key password: %s)', async (name, keyPassword) => {
    const chain = chains[name];
    const spec: JavaKeystoreSpec = { kind: 'java-keystore', path: fresh('server.jks'), storePassword: 'store pass ü', alias: 'web', keyPassword };
    await installTargets([spec], chain);

    const data = readFileSync(spec.path);
    expect(data.subarray(0, 8).toString('hex')).toBe('feedfeed00000002');
    expect(statSync(spec.path).mode & 0o777).toBe(0o600);

    const list = dir.keytool(['-list', '-v', '-keystore', spec.path, '-storepass', spec.storePassword]);
    expect(list.status).toBe(0);
    expect(list.output).toMatch(/Keystore type: JKS/);
    expect(list.output).toMatch(/Your keystore contains 1 entry/);
    expect(list.output).toMatch(/Alias name: web\n/);
    expect(list.output).toMatch(/Entry type: PrivateKeyEntry\n/);
    expect(list.output).toMatch(/Certificate chain length: 2\n/);
    const listed = [...list.output.matchAll(/^\s*SHA256: ([0-9A-F:]+)$/gm)].map((m) => m[1]);
    expect(listed).toEqual([sha256Colons(chain.certificatePem), sha256Colons(chain.intermediatePem)]);

    // keytool must decrypt our key protector to re-encode the key; openssl then reads it back
    const exported = exportWithKeytool(spec.path, spec.storePassword, 'web', keyPassword);
    expect(exported.status).toBe(0);
    const blocks = exported.blocks();
    const keys = blocks.filter((b) => b.label === 'PRIVATE KEY');
    expect(keys).toHaveLength(1);
    expect(keyJwk(keys[0].pem)).toEqual(keyJwk(chain.privateKeyPem));
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => sha256Colons(b.pem));
    expect(certs.sort()).toEqual([sha256Colons(chain.certificatePem), sha256Colons(chain.intermediatePem)].sort());

    // and certfleet's own discovery reads it back, integrity verified with the store password
    const found = readCertificateFile(data, { path: spec.path, passwords: ['wrong', spec.storePassword] });
    expect(found).toMatchObject({ format: 'jks', problems: [], integrityVerified: true });
    expect(found.certificates.map((c) => [c.entry, c.fingerprintSha256])).toEqual([
      ['web', sha256Hex(chain.certificatePem)],
      ['web#1', sha256Hex(chain.intermediatePem)],
    ]);
    expect(found.privateKeys).toEqual([expect.objectContaining({ publicKeySha256: found.certificates[0].publicKeySha256, encrypted: true })]);
  });

  it('is refused by keytool (and discovery) with a wrong store password, and a wrong key password does not open the key', async () => {
    const chain = chains['EC P-256'];
    const spec: JavaKeystoreSpec = { kind: 'java-keystore', path: fresh('locked.jks'), storePassword: 'right store', keyPassword: 'right key' };
    await installTargets([spec], chain);

    const wrongStore = dir.keytool(['-list', '-keystore', spec.path, '-storepass', 'wrong store']);
    expect(wrongStore.status).not.toBe(0);
    expect(wrongStore.output).toMatch(/Keystore was tampered with, or password was incorrect/);
    expect(readCertificateFile(readFileSync(spec.path), { path: spec.path, passwords: ['wrong store'] }).integrityVerified).toBe(false);

    const wrongKey = exportWithKeytool(spec.path, spec.storePassword, 'certfleet', 'wrong key');
    expect(wrongKey.status).not.toBe(0);
    expect(wrongKey.output).toMatch(/UnrecoverableKeyException: Cannot recover key/);
    expect(exportWithKeytool(spec.path, spec.storePassword, 'certfleet', 'right key').status).toBe(0);
  });

  it('defaults to alias "certfleet" and the store password for the key; aliases are stored lowercased as Java does', async () => {
    const chain = chains['RSA 2048'];
    const byDefault: JavaKeystoreSpec = { kind: 'java-keystore', path: fresh('default.jks'), storePassword: 'changeit' };
    const mixedCase: JavaKeystoreSpec = { kind: 'java-keystore', path: fresh('tomcat.jks'), storePassword: 'changeit', alias: 'Tomcat' };
    await installTargets([byDefault, mixedCase], chain);

    const exported = exportWithKeytool(byDefault.path, 'changeit', 'certfleet'); // no -srckeypass: keytool tries the store password
    expect(exported.status).toBe(0);
    expect(keyJwk(exported.blocks().find((b) => b.label === 'PRIVATE KEY')!.pem)).toEqual(keyJwk(chain.privateKeyPem));
    expect(dir.keytool(['-list', '-keystore', mixedCase.path, '-storepass', 'changeit']).output).toMatch(/^tomcat, .*PrivateKeyEntry/m);
    expect(createTarget(mixedCase).describe()).toBe(`Java keystore (JKS) ${mixedCase.path} (alias tomcat)`);
  });

  it('leaves a keystore that already holds the same entry alone, so re-running a job keeps the real previous backup', async () => {
    const path = fresh('idempotent.jks');
    const spec: JavaKeystoreSpec = { kind: 'java-keystore', path, storePassword: 'changeit' };
    await (await installTargets([spec], chains['EC P-256'])).commit();
    await (await installTargets([spec], chains['EC P-384'])).commit(); // renewal: backup = the P-256 store
    const installed = readFileSync(path);
    const previous = readFileSync(`${path}.certfleet-bak`);

    const again = await installTargets([spec], chains['EC P-384']);
    expect(again.changed).toBe(false);
    expect(readFileSync(path).equals(installed)).toBe(true);
    expect(readFileSync(`${path}.certfleet-bak`).equals(previous)).toBe(true);

    const otherPassword = await installTargets([{ ...spec, storePassword: 'rotated' }], chains['EC P-384']);
    expect(otherPassword.changed).toBe(true); // a changed password is a changed file
    expect(dir.keytool(['-list', '-keystore', path, '-storepass', 'rotated']).status).toBe(0);
  });

  it('stamps the entry with the injected clock as its creation date', async () => {
    const created = new Date('2031-02-03T04:05:06.789Z');
    const spec: JavaKeystoreSpec = { kind: 'java-keystore', path: fresh('dated.jks'), storePassword: 'changeit', alias: 'dated' };
    const [write] = await javaKeystoreTarget(spec, () => created).plan(chains['EC P-256']);
    expect(readJks(Buffer.from(write.data), 'changeit')).toEqual([expect.objectContaining({ alias: 'dated', createdAt: created })]);
    expect(write.secret).toBe(true);
  });

  it('refuses empty passwords and nothing is written', async () => {
    const path = fresh('empty.jks');
    await expect(installTargets([{ kind: 'java-keystore', path, storePassword: '' }], chains['RSA 2048'])).rejects.toThrow(InvalidTargetError);
    await expect(installTargets([{ kind: 'java-keystore', path, storePassword: 'x', keyPassword: '' }], chains['RSA 2048'])).rejects.toThrow(/must not be empty/);
    expect(existsSync(path)).toBe(false);
  });
});

describe('JKS encoding pieces', () => {
  it('key protector: recovers the PKCS#8 with the password, refuses another, keystream covers keys of any length', () => {
    for (const length of [1, 19, 20, 21, 121, 1218]) {
      const plain = Buffer.alloc(length, 0xa5);
      const salt = Buffer.alloc(20, 7);
      const wrapped = protectKey(plain, 'pw', salt);
      // AlgorithmIdentifier { 1.3.6.1.4.1.42.2.17.1.1, NULL }, then salt || encrypted || 20-byte check
      expect(wrapped.toString('hex')).toContain(`300e060a2b060104012a021101010500`);
      expect(wrapped.toString('hex')).toContain(salt.toString('hex'));
      expect(wrapped.length).toBeGreaterThanOrEqual(16 + 2 + 20 + length + 20);
      expect(recoverKey(wrapped, 'pw')).toEqual(plain);
      expect(() => recoverKey(wrapped, 'PW')).toThrow(/key password does not match/);
    }
  });

  it('aliases use Java modified UTF-8 (NUL in two bytes, surrogates one by one) and read back unchanged', () => {
    expect(encodeModifiedUtf8('a\u0000é€').toString('hex')).toBe('61c080c3a9e282ac');
    expect(encodeModifiedUtf8('😀').toString('hex')).toBe('eda0bdedb880');
    expect(decodeModifiedUtf8(encodeModifiedUtf8('zoë 😀'))).toBe('zoë 😀');

    const chain = chains['EC P-256'];
    const key = createPrivateKey(chain.privateKeyPem).export({ type: 'pkcs8', format: 'der' });
    const der = new X509Certificate(chain.certificatePem).raw;
    const store = buildJks({ alias: 'zoë', createdAt: new Date(1_700_000_000_000), privateKeyPkcs8Der: key, chainDer: [der], keyPassword: 'k' }, 's');
    const [entry] = readJks(store, 's');
    expect(entry).toMatchObject({ kind: 'private-key', alias: 'zoë', createdAt: new Date(1_700_000_000_000), chainDer: [der] });
    expect(() => readJks(store, 'not s')).toThrow(/integrity/);
  });
});
