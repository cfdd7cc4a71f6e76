import { readCertificateFile } from './index';
import { Workdir, opensslFacts } from './testing/openssl-fixtures';

const read = (data: Buffer, path: string, passwords: string[] = []) => readCertificateFile(data, { path, passwords });

describe('readCertificateFile: PKCS#7, PKCS#12 and Java keystores', () => {
  const work = new Workdir();
  const p12 = (out: string, ...args: string[]) =>
    work.openssl('pkcs12', '-export', '-in', 'ec-leaf.pem', '-inkey', 'ec-leaf.key', '-certfile', 'ec-ca.pem', '-name', 'web', '-out', out, ...args);
  beforeAll(() => {
    work.makeCaAndLeaf('ec');
    work.openssl('crl2pkcs7', '-nocrl', '-certfile', 'ec-leaf.pem', '-certfile', 'ec-ca.pem', '-out', 'bundle.p7b');
    work.openssl('crl2pkcs7', '-nocrl', '-certfile', 'ec-leaf.pem', '-certfile', 'ec-ca.pem', '-outform', 'DER', '-out', 'bundle.der.p7b');
    p12('aes.p12', '-passout', 'pass:s3cret');
    p12('nopass.p12', '-passout', 'pass:');
    p12('3des.p12', '-passout', 'pass:s3cret', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1');
    p12('rc2.p12', '-passout', 'pass:s3cret', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-RC2-40', '-macalg', 'sha1', '-legacy');
    const keytool = (store: string, type: string, ...args: string[]) =>
      work.keytool(...args, '-keystore', store, '-storetype', type, '-storepass', 'changeit', '-noprompt');
    for (const [store, type] of [['k.jks', 'JKS'], ['k.jceks', 'JCEKS'], ['k.pkcs12.ks', 'PKCS12']]) {
      keytool(store, type, '-importcert', '-alias', 'trusted-root', '-file', 'ec-ca.pem');
      keytool(store, type, '-genkeypair', '-alias', 'server', '-keyalg', 'EC', '-groupname', 'secp384r1', '-dname', 'CN=jks.example.com', '-keypass', 'changeit', '-validity', '30');
    }
  });
  afterAll(() => work.remove());

  it.each([['PEM', 'bundle.p7b'], ['DER', 'bundle.der.p7b']])('reads a %s PKCS#7 certificate bundle', (_form, file) => {
    const { certificates, problems, format } = read(work.read(file), `/x/${file}`);
    expect(problems).toEqual([]);
    expect(format).toBe('pkcs7');
    expect(certificates.map((c) => c.fingerprintSha256)).toEqual([opensslFacts(work, 'ec-leaf.pem').fingerprintSha256, opensslFacts(work, 'ec-ca.pem').fingerprintSha256]);
    expect(certificates.map((c) => [c.format, c.chainComplete, c.chainLength])).toEqual([['pkcs7', true, 2], ['pkcs7', true, 1]]);
  });

  it.each([
    ['PBES2/AES (OpenSSL 3 default) with a configured password', 'aes.p12', ['wrong', 's3cret']],
    ['no password', 'nopass.p12', []],
    ['legacy 3DES', '3des.p12', ['s3cret']],
  ])('reads PKCS#12 with %s', (_name, file, passwords) => {
    const { certificates, privateKeys, problems, format } = read(work.read(file), `/x/${file}`, passwords);
    expect(problems).toEqual([]);
    expect(format).toBe('pkcs12');
    const leaf = opensslFacts(work, 'ec-leaf.pem');
    expect(certificates.map((c) => c.fingerprintSha256).sort()).toEqual([leaf.fingerprintSha256, opensslFacts(work, 'ec-ca.pem').fingerprintSha256].sort());
    const leafCert = certificates.find((c) => c.fingerprintSha256 === leaf.fingerprintSha256)!;
    expect(leafCert).toMatchObject({ entry: expect.stringMatching(/^\d+:web$/), serial: leaf.serial, notAfter: leaf.notAfter, format: 'pkcs12', chainComplete: true, chainLength: 2 });
    expect(privateKeys).toEqual([expect.objectContaining({ keyAlgorithm: 'EC', keyCurve: 'P-256', encrypted: true, publicKeySha256: leafCert.publicKeySha256 })]);
  });

  it('reports a PKCS#12 no configured password opens as locked', () => {
    const { certificates, problems } = read(work.read('aes.p12'), '/x/aes.p12', ['wrong', 'also-wrong']);
    expect(certificates).toEqual([]);
    expect(problems).toEqual([{ path: '/x/aes.p12', kind: 'locked', format: 'pkcs12', reason: expect.stringMatching(/none of 2 configured password/) }]);
  });

  it('says when RC2-encrypted PKCS#12 contents need a cipher Node lacks, and still reads the key', () => {
    const { privateKeys, problems } = read(work.read('rc2.p12'), '/x/rc2.p12', ['s3cret']);
    expect(problems).toEqual([expect.objectContaining({ kind: 'unsupported', reason: expect.stringMatching(/RC2/) })]);
    expect(privateKeys).toEqual([expect.objectContaining({ keyAlgorithm: 'EC', encrypted: true })]);
  });

  it.each([['JKS', 'k.jks', 'jks'], ['JCEKS', 'k.jceks', 'jceks']])('reads a %s keystore without its password', (_name, file, format) => {
    const { certificates, privateKeys, problems, integrityVerified } = read(work.read(file), `/x/${file}`);
    expect(problems).toEqual([]);
    expect(integrityVerified).toBe(false);
    const byEntry = Object.fromEntries(certificates.map((c) => [c.entry, c]));
    expect(Object.keys(byEntry).sort()).toEqual(['server', 'trusted-root']);
    expect(byEntry['trusted-root']).toMatchObject({ format, fingerprintSha256: opensslFacts(work, 'ec-ca.pem').fingerprintSha256, selfSigned: true });
    expect(byEntry.server).toMatchObject({ subject: 'CN=jks.example.com', keyAlgorithm: 'EC', keyCurve: 'P-384', keySize: 384 });
    expect(privateKeys).toEqual([expect.objectContaining({ keyAlgorithm: 'EC', keyCurve: 'P-384', encrypted: true, publicKeySha256: byEntry.server.publicKeySha256 })]);
  });

  it('verifies the keystore integrity digest when a configured password matches', () => {
    expect(read(work.read('k.jks'), '/x/k.jks', ['nope', 'changeit']).integrityVerified).toBe(true);
    expect(read(work.read('k.jks'), '/x/k.jks', ['nope']).integrityVerified).toBe(false);
  });

  it('reports a truncated keystore as corrupt', () => {
    const data = work.read('k.jks');
    const { problems } = read(data.subarray(0, data.length - 100), '/x/k.jks');
    expect(problems).toEqual([expect.objectContaining({ kind: 'corrupt', format: 'jks', reason: expect.stringMatching(/truncated/) })]);
  });

  it('reads a Java PKCS12 keystore as PKCS#12', () => {
    const { certificates, privateKeys, problems, format } = read(work.read('k.pkcs12.ks'), '/x/k.pkcs12.ks', ['changeit']);
    expect(problems).toEqual([]);
    expect(format).toBe('pkcs12');
    expect(certificates.map((c) => c.entry.replace(/^\d+:/, '')).sort()).toEqual(['server', 'trusted-root']);
    expect(privateKeys).toEqual([expect.objectContaining({ keyAlgorithm: 'EC', keyCurve: 'P-384' })]);
  });
});
