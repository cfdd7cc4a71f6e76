import { readCertificateFile } from './index';
import { Workdir, opensslFacts } from './testing/openssl-fixtures';

const read = (data: Buffer, path = '/x/file.pem', passwords: string[] = []) => readCertificateFile(data, { path, passwords });

describe('readCertificateFile: PEM, DER and keys made by openssl', () => {
  const work = new Workdir();
  beforeAll(() => {
    work.makeCaAndLeaf('ec');
    work.makeCaAndLeaf('rsa', 'RSA -pkeyopt rsa_keygen_bits:2048');
    work.makeCaAndLeaf('ed', 'ed25519');
    work.openssl('x509', '-in', 'ec-leaf.pem', '-outform', 'DER', '-out', 'ec-leaf.der');
    work.openssl('pkcs8', '-topk8', '-in', 'rsa-leaf.key', '-passout', 'pass:keypass', '-out', 'rsa-leaf.enc.key');
    work.openssl('pkey', '-in', 'rsa-leaf.key', '-traditional', '-out', 'rsa-leaf.traditional.key');
    work.openssl('ec', '-in', 'ec-leaf.key', '-out', 'ec-leaf.traditional.key');
    work.openssl('x509', '-in', 'ec-ca.pem', '-trustout', '-addtrust', 'serverAuth', '-out', 'ec-ca.trusted.pem');
  });
  afterAll(() => work.remove());

  it('reads a single PEM certificate with the facts openssl prints', () => {
    const expected = opensslFacts(work, 'ec-leaf.pem');
    const { certificates, problems, format } = read(work.read('ec-leaf.pem'));
    expect(problems).toEqual([]);
    expect(format).toBe('pem');
    expect(certificates).toHaveLength(1);
    const [cert] = certificates;
    expect(cert.fingerprintSha256).toBe(expected.fingerprintSha256);
    expect(cert.serial).toBe(expected.serial);
    expect(cert.notAfter).toEqual(expected.notAfter);
    expect(cert).toMatchObject({
      entry: '0',
      subject: 'CN=ec.example.com, O=Test Org, C=US',
      issuer: 'CN=ec Root, O=Test Org, C=US',
      dnsNames: ['ec.example.com', 'www.ec.example.com'],
      ipAddresses: ['10.0.0.1', '2001:db8::1'],
      emails: ['ops@example.com'],
      uris: ['https://example.com/ec'],
      keyAlgorithm: 'EC',
      keySize: 256,
      keyCurve: 'P-256',
      signatureAlgorithm: 'ecdsa-with-SHA256',
      isCa: false,
      selfSigned: false,
      chainComplete: false,
      chainLength: 1,
    });
    expect(cert.der).toEqual(work.read('ec-leaf.der'));
    expect(cert.subjectKeyId).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reads a bundle with leading text and a key, and builds the chain inside the file', () => {
    const data = Buffer.concat([Buffer.from('subject=whatever\nissuer=whatever\n'), work.read('rsa-leaf.pem'), Buffer.from('between\n'), work.read('rsa-ca.pem'), work.read('rsa-leaf.key')]);
    const { certificates, privateKeys, problems } = read(data);
    expect(problems).toEqual([]);
    expect(certificates.map((c) => [c.entry, c.chainComplete, c.chainLength, c.selfSigned, c.isCa])).toEqual([
      ['0', true, 2, false, false],
      ['1', true, 1, true, true],
    ]);
    expect(certificates[0]).toMatchObject({ keyAlgorithm: 'RSA', keySize: 2048, signatureAlgorithm: 'sha256WithRSAEncryption' });
    expect(certificates[0].authorityKeyId).toBe(certificates[1].subjectKeyId);
    expect(privateKeys).toHaveLength(1);
    expect(privateKeys[0]).toMatchObject({ keyAlgorithm: 'RSA', keySize: 2048, encrypted: false });
    expect(privateKeys[0].publicKeySha256).toBe(certificates[0].publicKeySha256);
  });

  it('reads CRLF line endings', () => {
    const crlf = Buffer.from(work.read('ed-leaf.pem').toString().replace(/\n/g, '\r\n'));
    const { certificates } = read(crlf);
    expect(certificates[0].fingerprintSha256).toBe(opensslFacts(work, 'ed-leaf.pem').fingerprintSha256);
    expect(certificates[0]).toMatchObject({ keyAlgorithm: 'Ed25519', signatureAlgorithm: 'Ed25519' });
  });

  it('reads TRUSTED CERTIFICATE blocks (OpenSSL aux data after the certificate)', () => {
    const { certificates } = read(work.read('ec-ca.trusted.pem'));
    expect(certificates[0].fingerprintSha256).toBe(opensslFacts(work, 'ec-ca.pem').fingerprintSha256);
    expect(certificates[0].selfSigned).toBe(true);
  });

  it('detects DER by content, whatever the extension', () => {
    const { certificates, format } = read(work.read('ec-leaf.der'), '/x/cert.bin');
    expect(format).toBe('der');
    expect(certificates[0].fingerprintSha256).toBe(opensslFacts(work, 'ec-leaf.der', 'DER').fingerprintSha256);
  });

  it.each([
    ['EC PKCS#8', 'ec-leaf.key', 'EC', 256, 'P-256'],
    ['EC traditional', 'ec-leaf.traditional.key', 'EC', 256, 'P-256'],
    ['RSA traditional', 'rsa-leaf.traditional.key', 'RSA', 2048, ''],
    ['Ed25519', 'ed-leaf.key', 'Ed25519', 256, ''],
  ])('reads a %s private key', (_name, file, keyAlgorithm, keySize, keyCurve) => {
    const { privateKeys, certificates } = read(work.read(file), `/x/${file}`);
    expect(certificates).toEqual([]);
    expect(privateKeys).toEqual([expect.objectContaining({ keyAlgorithm, keySize, keyCurve, encrypted: false })]);
    const leaf = read(work.read(`${file.split('.')[0]}.pem`)).certificates[0];
    expect(privateKeys[0].publicKeySha256).toBe(leaf.publicKeySha256);
  });

  it('reports an encrypted PKCS#8 key, opening it only with a configured password', () => {
    const locked = read(work.read('rsa-leaf.enc.key'), '/x/k.key').privateKeys;
    expect(locked).toEqual([expect.objectContaining({ encrypted: true, keyAlgorithm: '', publicKeySha256: '' })]);
    const opened = read(work.read('rsa-leaf.enc.key'), '/x/k.key', ['nope', 'keypass']).privateKeys;
    expect(opened).toEqual([expect.objectContaining({ encrypted: true, keyAlgorithm: 'RSA', keySize: 2048 })]);
    expect(opened[0].publicKeySha256).toBe(read(work.read('rsa-leaf.pem')).certificates[0].publicKeySha256);
  });

  it('reports corrupt, truncated and empty files named like certificates', () => {
    const garbage = Buffer.from('-----BEGIN CERTIFICATE-----\n' + 'bm90IGEgY2VydA==\n'.repeat(5) + '-----END CERTIFICATE-----\n');
    const pem = work.read('ec-ca.pem');
    const cases: [Buffer, string, RegExp][] = [
      [garbage, '/x/garbage.pem', /does not decode/],
      [pem.subarray(0, pem.length / 2), '/x/truncated.crt', /no END line/],
      [Buffer.alloc(0), '/x/empty.crt', /empty/],
      [Buffer.from([0x30, 0x82, 0x10, 0x00, 1, 2, 3]), '/x/junk.der', /no certificate/],
      [Buffer.from('\x00\x01binary junk\xff'), '/x/junk.p12', /no certificate/],
    ];
    for (const [data, path, reason] of cases) {
      const result = read(data, path);
      expect(result.isCertificateFile).toBe(true);
      expect(result.certificates).toEqual([]);
      expect(result.problems).toEqual([expect.objectContaining({ path, kind: 'corrupt', reason: expect.stringMatching(reason) })]);
    }
  });

  it('keeps the good certificates of a bundle when one block is broken', () => {
    const data = Buffer.concat([work.read('ec-leaf.pem'), Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')]);
    const { certificates, problems } = read(data);
    expect(certificates).toHaveLength(1);
    expect(problems).toEqual([expect.objectContaining({ kind: 'corrupt', reason: expect.stringMatching(/certificate 1 does not decode/) })]);
  });

  it('ignores files that are not certificate material and not named like it', () => {
    for (const [data, path] of [
      [Buffer.from('deployment notes\n'), '/x/notes.txt'],
      [Buffer.from('server:\n  tls_cert: /etc/ssl/x.pem\n'), '/x/config.yaml'],
      [Buffer.alloc(0), '/x/empty.txt'],
      [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), '/x/blob.bin'],
    ] as const) {
      expect(read(data, path)).toEqual({ isCertificateFile: false, format: '', certificates: [], privateKeys: [], problems: [] });
    }
  });
});
