import { createHash, generateKeyPairSync, KeyObject, X509Certificate } from 'node:crypto';
import { connect, createServer } from 'node:tls';
import { AddressInfo } from 'node:net';
import { CaMaterialError } from '../authority/errors';
import { FleetCaMaterial } from '../authority/fleet-ca';
import { EC_P256, OpensslDir } from '../authority/openssl-test-kit';
import { createIssuingCaRequest, createRootCa, signIntermediate } from '../hierarchy/ca-hierarchy';
import { verifyCsrFast } from './csr-fast';
import { IssuingCa, loadIssuingCa } from './issuing-ca';
import { issueLeafCertificate } from './leaf-certificate';
import { LeafProfile, LeafRequestError } from './leaf-profile';

const DAY_MS = 24 * 60 * 60 * 1000;
const spkiOf = (publicKey: KeyObject) => publicKey.export({ format: 'der', type: 'spki' });
const newEcKey = (namedCurve = 'P-256') => generateKeyPairSync('ec', { namedCurve });
const newRsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const colonHex = (text: string, label: string) => {
  const match = new RegExp(`${label}: *\\n\\s+(?:keyid:)?([0-9A-F:]+)`).exec(text);
  if (!match) throw new Error(`no ${label} in\n${text}`);
  return match[1];
};

const FULL_PROFILE: LeafProfile = {
  commonName: 'www.example.test',
  organization: 'Example Ops',
  dnsNames: ['www.example.test', 'api.example.test'],
  ipAddresses: ['192.0.2.10', '2001:db8::1', '2001:0db8:0:0:1:0:0:2'],
  emails: ['ops@example.test'],
  uris: ['spiffe://example.test/web'],
  validityDays: 30,
  usages: ['tls-server', 'tls-client'],
};

describe('issuing CA: end-entity certificates', () => {
  const dir = new OpensslDir();
  let root: FleetCaMaterial;
  let issuing: { certificatePem: string; privateKeyPem: string };
  let ca: IssuingCa;
  let rootFile: string;
  let issuingFile: string;

  beforeAll(async () => {
    root = await createRootCa({ commonName: 'Example Root CA', organization: 'Example' });
    const request = await createIssuingCaRequest({ commonName: 'Example Issuing CA', organization: 'Example' });
    issuing = { certificatePem: await signIntermediate(root, request.csrPem, { validityDays: 365 }), privateKeyPem: request.privateKeyPem };
    ca = loadIssuingCa({ ...issuing, chainPem: root.certificatePem });
    rootFile = dir.write('root.pem', root.certificatePem);
    issuingFile = dir.write('issuing.pem', issuing.certificatePem);
    dir.write('root.key', root.privateKeyPem);
  });
  afterAll(() => dir.remove());

  const verifyChain = (leafPem: string, name: string, ...extra: string[]) =>
    dir.run('verify', ...extra, '-CAfile', rootFile, '-untrusted', issuingFile, dir.write(name, leafPem));

  it('issues a v3 leaf that openssl verifies up to the root, with every field as profiled', () => {
    const key = newEcKey();
    const spki = spkiOf(key.publicKey);
    const wholeSecond = Math.floor(Date.now() / 1000) * 1000 + 3_600_000; // an hour ahead, so `now` is what counts
    const now = new Date(wholeSecond + 250);
    const leaf = issueLeafCertificate(ca, { publicKeySpki: spki, profile: FULL_PROFILE, now });

    const attime = String(wholeSecond / 1000);
    expect(verifyChain(leaf.certificatePem, 'full.pem', '-attime', attime)).toContain('full.pem: OK');
    for (const purpose of ['sslserver', 'sslclient']) {
      expect(verifyChain(leaf.certificatePem, 'full.pem', '-purpose', purpose, '-attime', attime)).toContain(': OK');
    }
    // Not yet valid at the real time: notBefore is `now` minus 5 minutes, not the wall clock.
    expect(dir.attempt('verify', '-CAfile', rootFile, '-untrusted', issuingFile, dir.file('full.pem')).output).toMatch(/not yet valid/);
    const text = dir.run('x509', '-in', dir.file('full.pem'), '-noout', '-text');
    const caText = dir.run('x509', '-in', issuingFile, '-noout', '-text');
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(text).toContain(`Issuer: ${/Subject: (.*)/.exec(caText)![1]}`);
    expect(text).toContain('Subject: O = Example Ops, CN = www.example.test');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
    expect(text).toMatch(
      /X509v3 Subject Alternative Name: \n\s+DNS:www.example.test, DNS:api.example.test, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:2001:DB8:0:0:1:0:0:2, email:ops@example.test, URI:spiffe:\/\/example.test\/web\n/,
    );
    // AKI = the issuing CA's SKI; SKI = SHA-1 of the leaf's subjectPublicKey bits (RFC 5280 method 1).
    expect(colonHex(text, 'X509v3 Authority Key Identifier')).toBe(colonHex(caText, 'X509v3 Subject Key Identifier'));
    const keyBits = spki.subarray(spki.length - 65); // P-256 SPKI ends with the 65-byte uncompressed point
    expect(colonHex(text, 'X509v3 Subject Key Identifier').replace(/:/g, '').toLowerCase()).toBe(createHash('sha1').update(keyBits).digest('hex'));
    expect(colonHex(text, 'X509v3 Authority Key Identifier').replace(/:/g, '').toLowerCase()).toBe(ca.subjectKeyIdentifier.toString('hex'));

    const parsed = new X509Certificate(leaf.certificatePem);
    expect(parsed.raw.equals(leaf.certificateDer)).toBe(true);
    expect(parsed.ca).toBe(false);
    expect(parsed.serialNumber.toLowerCase()).toBe(leaf.serialHex);
    expect(leaf.serialHex).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(parsed.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(leaf.fingerprintSha256);
    expect(leaf.notBefore.getTime()).toBe(wholeSecond - 5 * 60 * 1000);
    expect(leaf.notAfter.getTime()).toBe(wholeSecond + 30 * DAY_MS);
    expect(new Date(parsed.validFrom).getTime()).toBe(leaf.notBefore.getTime());
    expect(new Date(parsed.validTo).getTime()).toBe(leaf.notAfter.getTime());
    expect(parsed.publicKey.export({ format: 'der', type: 'spki' }).equals(spki)).toBe(true);
    expect(parsed.checkIssued(new X509Certificate(issuing.certificatePem))).toBe(true);
    expect(parsed.verify(new X509Certificate(issuing.certificatePem).publicKey)).toBe(true);
    expect(parsed.checkHost('www.example.test')).toBe('www.example.test');
    expect(parsed.checkHost('API.example.test')).toBe('api.example.test');
    expect(parsed.checkHost('other.example.test')).toBeUndefined();
    expect(parsed.checkIP('192.0.2.10')).toBe('192.0.2.10');
    expect(parsed.checkIP('2001:db8::1')).toBe('2001:db8::1');
    expect(parsed.checkIP('2001:db8::1:0:0:2')).toBe('2001:db8::1:0:0:2');
    expect(parsed.checkIP('192.0.2.11')).toBeUndefined();
    expect(parsed.checkEmail('ops@example.test')).toBe('ops@example.test');
  });

  it('carries AIA (OCSP, CA issuers) and CRL distribution point URLs when the CA is loaded with them', () => {
    const urls = { ocsp: 'http://pki.example.test:8080/pki/ocsp/ca-1', caIssuers: 'http://pki.example.test:8080/pki/ca/ca-1.crt', crl: 'https://pki.example.test/pki/crl/ca-1.crl' };
    const withUrls = loadIssuingCa({ ...issuing, chainPem: root.certificatePem }, { revocationUrls: urls });
    const leaf = issueLeafCertificate(withUrls, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: FULL_PROFILE });
    const text = dir.run('x509', '-in', dir.write('aia.pem', leaf.certificatePem), '-noout', '-text');
    expect(text).toMatch(/Authority Information Access: \n\s+OCSP - URI:http:\/\/pki.example.test:8080\/pki\/ocsp\/ca-1\n\s+CA Issuers - URI:http:\/\/pki.example.test:8080\/pki\/ca\/ca-1.crt\n/);
    expect(text).toMatch(/X509v3 CRL Distribution Points: \n\s+Full Name:\n\s+URI:https:\/\/pki.example.test\/pki\/crl\/ca-1.crl\n/);
    expect(dir.run('x509', '-in', dir.file('aia.pem'), '-noout', '-ocsp_uri').trim()).toBe(urls.ocsp);
    expect(verifyChain(leaf.certificatePem, 'aia.pem')).toContain('aia.pem: OK');
    // Without URLs, neither extension appears; a non-http URL is refused when the CA is loaded.
    const plain = issueLeafCertificate(ca, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: FULL_PROFILE });
    expect(dir.run('x509', '-in', dir.write('plain.pem', plain.certificatePem), '-noout', '-text')).not.toMatch(/Authority Information Access|CRL Distribution/);
    expect(() => loadIssuingCa(issuing, { revocationUrls: { crl: 'ldap://example.test/cn=crl' } })).toThrow(/must be http/);
    expect(() => loadIssuingCa(issuing, { revocationUrls: { ocsp: 'http://example.test/a b' } })).toThrow(/plain ASCII/);
  });

  it('gives each certificate a fresh random positive 16-byte serial, or the serial asked for', () => {
    const spki = spkiOf(newEcKey().publicKey);
    const serials = new Set(Array.from({ length: 300 }, () => issueLeafCertificate(ca, { publicKeySpki: spki, profile: FULL_PROFILE }).serialHex));
    expect(serials.size).toBe(300);
    for (const serial of serials) expect(serial).toMatch(/^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/);

    const given = issueLeafCertificate(ca, { publicKeySpki: spki, profile: FULL_PROFILE, serialHex: '00ABCDEF01' });
    expect(given.serialHex).toBe('abcdef01');
    expect(dir.run('x509', '-in', dir.write('serial.pem', given.certificatePem), '-noout', '-serial')).toBe('serial=ABCDEF01\n');
    const highBit = issueLeafCertificate(ca, { publicKeySpki: spki, profile: FULL_PROFILE, serialHex: 'f'.repeat(38) });
    expect(new X509Certificate(highBit.certificateDer).serialNumber).toBe('F'.repeat(38));
    expect(verifyChain(highBit.certificatePem, 'serial-high.pem')).toContain(': OK');
  });

  it('serves a real TLS handshake: Node checks the chain, the DNS name and the IP address', async () => {
    // The key comes from an openssl CSR, checked with verifyCsrFast, as on the server.
    const csr = verifyCsrFast(dir.makeCsr('tls', EC_P256));
    const leaf = issueLeafCertificate(ca, {
      publicKeySpki: csr.publicKeySpki,
      profile: { commonName: 'www.example.test', dnsNames: ['www.example.test'], ipAddresses: ['127.0.0.1'], validityDays: 7, usages: ['tls-server'] },
    });
    expect(dir.run('x509', '-in', dir.write('tls.pem', leaf.certificatePem), '-noout', '-pubkey')).toBe(dir.run('req', '-in', 'tls.csr', '-noout', '-pubkey'));
    const server = createServer({ key: dir.read('tls.key'), cert: leaf.certificatePem + issuing.certificatePem }, (socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const handshake = (servername?: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: root.certificatePem, servername }, () => {
          let data = '';
          socket.on('data', (chunk) => (data += chunk)).on('end', () => resolve(data));
        });
        socket.on('error', reject);
      });
    try {
      await expect(handshake('www.example.test')).resolves.toBe('hello');
      await expect(handshake()).resolves.toBe('hello'); // no SNI: the IP SAN 127.0.0.1 is checked
      await expect(handshake('wrong.example.test')).rejects.toThrow(/does not match|altnames/i);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('clamps notAfter to the issuing CA, and refuses an expired CA', async () => {
    const request = await createIssuingCaRequest({ commonName: 'Short-lived Issuing CA' });
    const certificatePem = await signIntermediate(root, request.csrPem, { validityDays: 10 });
    const shortCa = loadIssuingCa({ certificatePem, privateKeyPem: request.privateKeyPem });
    const leaf = issueLeafCertificate(shortCa, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: { ...FULL_PROFILE, validityDays: 90 } });
    expect(leaf.notAfter.getTime()).toBe(shortCa.notAfter.getTime());
    const caNotAfter = dir.run('x509', '-in', dir.write('short-ca.pem', certificatePem), '-noout', '-enddate');
    expect(dir.run('x509', '-in', dir.write('short-leaf.pem', leaf.certificatePem), '-noout', '-enddate')).toBe(caNotAfter);
    expect(dir.run('verify', '-CAfile', rootFile, '-untrusted', dir.file('short-ca.pem'), dir.file('short-leaf.pem'))).toContain(': OK');

    const afterExpiry = new Date(shortCa.notAfter.getTime() + 1000);
    expect(() => issueLeafCertificate(shortCa, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: FULL_PROFILE, now: afterExpiry })).toThrow(CaMaterialError);
    expect(() => issueLeafCertificate(shortCa, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: FULL_PROFILE, now: afterExpiry })).toThrow(/expired/);
    expect(() => loadIssuingCa({ certificatePem, privateKeyPem: request.privateKeyPem }, { now: afterExpiry })).toThrow(/expired/);
  });

  it('signs with ecdsa-with-SHA384 for a P-384 issuing CA', async () => {
    const request = await createIssuingCaRequest({ commonName: 'P-384 Issuing CA' }, 'P-384');
    const certificatePem = await signIntermediate(root, request.csrPem);
    const p384 = loadIssuingCa({ certificatePem, privateKeyPem: request.privateKeyPem });
    expect(p384).toMatchObject({ keyType: 'EC P-384', signatureAlgorithm: 'ecdsa-with-SHA384' });
    const leaf = issueLeafCertificate(p384, { publicKeySpki: spkiOf(newEcKey('P-384').publicKey), profile: FULL_PROFILE });
    const text = dir.run('x509', '-in', dir.write('p384-leaf.pem', leaf.certificatePem), '-noout', '-text');
    expect(text.match(/Signature Algorithm: (.*)/g)).toEqual(['Signature Algorithm: ecdsa-with-SHA384', 'Signature Algorithm: ecdsa-with-SHA384']);
    expect(dir.run('verify', '-CAfile', rootFile, '-untrusted', dir.write('p384-ca.pem', certificatePem), dir.file('p384-leaf.pem'))).toContain(': OK');
  });

  it('signs with sha256WithRSAEncryption for an RSA issuing CA; an RSA TLS server key gets keyEncipherment', async () => {
    dir.run('req', '-new', '-newkey', 'rsa:3072', '-nodes', '-keyout', 'rsa-ca.key', '-out', 'rsa-ca.csr', '-subj', '/O=Example/CN=Example RSA Issuing CA');
    const certificatePem = await signIntermediate(root, dir.read('rsa-ca.csr'));
    const rsaCa = loadIssuingCa({ certificatePem, privateKeyPem: dir.read('rsa-ca.key') });
    expect(rsaCa).toMatchObject({ keyType: 'RSA', signatureAlgorithm: 'sha256WithRSAEncryption' });
    const rsaCaFile = dir.write('rsa-ca.pem', certificatePem);
    const rsaLeafKey = spkiOf(newRsaKey().publicKey);

    const server = issueLeafCertificate(rsaCa, { publicKeySpki: rsaLeafKey, profile: { ...FULL_PROFILE, usages: ['tls-server'] } });
    const serverText = dir.run('x509', '-in', dir.write('rsa-server.pem', server.certificatePem), '-noout', '-text');
    expect(serverText).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(serverText).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    expect(dir.run('verify', '-purpose', 'sslserver', '-CAfile', rootFile, '-untrusted', rsaCaFile, dir.file('rsa-server.pem'))).toContain(': OK');

    const client = issueLeafCertificate(rsaCa, { publicKeySpki: rsaLeafKey, profile: { ...FULL_PROFILE, usages: ['tls-client'] } });
    const clientText = dir.run('x509', '-in', dir.write('rsa-client.pem', client.certificatePem), '-noout', '-text');
    expect(clientText).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(clientText).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    // An EC key from the same CA: no keyEncipherment even for a TLS server.
    const ecServer = issueLeafCertificate(rsaCa, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: { ...FULL_PROFILE, usages: ['tls-server', 'code-signing'] } });
    const ecText = dir.run('x509', '-in', dir.write('rsa-ec-server.pem', ecServer.certificatePem), '-noout', '-text');
    expect(ecText).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(ecText).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, Code Signing\n/);
    expect(dir.run('verify', '-CAfile', rootFile, '-untrusted', rsaCaFile, dir.file('rsa-ec-server.pem'))).toContain(': OK');
  });

  it('leaves the subject empty without a common name and then marks subjectAltName critical', () => {
    const { commonName: _cn, organization: _o, ...withoutSubject } = FULL_PROFILE;
    const leaf = issueLeafCertificate(ca, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: withoutSubject });
    const text = dir.run('x509', '-in', dir.write('no-cn.pem', leaf.certificatePem), '-noout', '-text');
    expect(text).toMatch(/Subject: *\n/);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\n\s+DNS:www.example.test/);
    expect(new X509Certificate(leaf.certificateDer).subject ?? '').toBe(''); // Node reports an empty subject as undefined
    expect(verifyChain(leaf.certificatePem, 'no-cn.pem', '-purpose', 'sslserver')).toContain(': OK');

    const withCn = issueLeafCertificate(ca, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: { ...withoutSubject, commonName: 'www.example.test' } });
    const withCnText = dir.run('x509', '-in', dir.write('cn.pem', withCn.certificatePem), '-noout', '-text');
    expect(withCnText).toContain('Subject: CN = www.example.test\n');
    expect(withCnText).toMatch(/X509v3 Subject Alternative Name: \n/);
  });

  it('encodes long name lists (multi-byte DER lengths) and dates from 2050 as GeneralizedTime', async () => {
    const dnsNames = Array.from({ length: 300 }, (_, i) => `host-${i}.example.test`);
    const many = issueLeafCertificate(ca, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: { ...FULL_PROFILE, dnsNames } });
    expect(many.certificateDer.length).toBeGreaterThan(0x1000); // two-byte DER lengths
    expect(verifyChain(many.certificatePem, 'many.pem', '-purpose', 'sslserver')).toContain(': OK');
    expect(new X509Certificate(many.certificateDer).checkHost('host-299.example.test')).toBe('host-299.example.test');

    const then = new Date('2049-12-20T00:00:00Z');
    const futureRoot = await createRootCa({ commonName: 'Future Root' }, { now: then });
    const request = await createIssuingCaRequest({ commonName: 'Future Issuing' });
    const certificatePem = await signIntermediate(futureRoot, request.csrPem, { now: then });
    const futureCa = loadIssuingCa({ certificatePem, privateKeyPem: request.privateKeyPem }, { now: then });
    const leaf = issueLeafCertificate(futureCa, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: FULL_PROFILE, now: then });
    const parsed = dir.run('asn1parse', '-in', dir.write('future.pem', leaf.certificatePem));
    expect(parsed).toContain('UTCTIME           :491219235500Z');
    expect(parsed).toContain('GENERALIZEDTIME   :20500119000000Z');
    const at = String(then.getTime() / 1000);
    expect(dir.run('verify', '-attime', at, '-CAfile', dir.write('future-root.pem', futureRoot.certificatePem), '-untrusted', dir.write('future-ca.pem', certificatePem), dir.file('future.pem'))).toContain(
      ': OK',
    );
  });

  it('refuses bad requests with LeafRequestError', () => {
    const spki = spkiOf(newEcKey().publicKey);
    const refuse = (profile: Partial<LeafProfile>, reason: RegExp, extra: { serialHex?: string; publicKeySpki?: Buffer } = {}) => {
      const attempt = () => issueLeafCertificate(ca, { publicKeySpki: spki, profile: { ...FULL_PROFILE, ...profile }, ...extra });
      expect(attempt).toThrow(LeafRequestError);
      expect(attempt).toThrow(reason);
    };
    refuse({ validityDays: 0 }, /validityDays must be a positive number/);
    refuse({ validityDays: -3 }, /validityDays/);
    refuse({ validityDays: Number.NaN }, /validityDays/);
    refuse({ dnsNames: [], ipAddresses: [], emails: [], uris: [] }, /no names/);
    refuse({ commonName: undefined, dnsNames: [], ipAddresses: [], emails: undefined, uris: undefined }, /no names/);
    refuse({ dnsNames: ['bad_name.example.test'] }, /invalid DNS name/);
    refuse({ dnsNames: ['bücher.example.test'] }, /invalid DNS name/);
    refuse({ dnsNames: ['www.example.test\nDNS:evil.test'] }, /invalid DNS name/);
    refuse({ ipAddresses: ['300.1.2.3'] }, /invalid IP address/);
    refuse({ ipAddresses: ['fe80::1%eth0'] }, /invalid IP address/);
    refuse({ emails: ['no-at-sign'] }, /invalid email/);
    refuse({ uris: ['no scheme here'] }, /invalid URI/);
    refuse({ commonName: 'x'.repeat(65) }, /invalid commonName/);
    refuse({ commonName: 'tab\there' }, /invalid commonName/);
    refuse({ organization: '' }, /invalid organization/);
    refuse({ usages: [] }, /at least one usage/);
    refuse({ usages: ['email-protection' as never] }, /unknown usage/);
    refuse({}, /serialHex must be hex/, { serialHex: 'ab:cd' });
    refuse({}, /positive/, { serialHex: '000' });
    refuse({}, /longer than 20 octets/, { serialHex: '8' + '0'.repeat(39) });
    refuse({}, /public key: unreadable/, { publicKeySpki: Buffer.from('not a key') });
    refuse({}, /public key: RSA key too small: 1024 bits/, { publicKeySpki: spkiOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey) });
    refuse({}, /public key: unsupported EC curve secp256k1/, { publicKeySpki: spkiOf(newEcKey('secp256k1').publicKey) });
    refuse({}, /public key: unsupported key type x25519/, { publicKeySpki: spkiOf(generateKeyPairSync('x25519').publicKey) });
    refuse({}, /public key: unreadable public key: .*trailing/, { publicKeySpki: Buffer.concat([spki, Buffer.from([0])]) });
    expect(() => issueLeafCertificate({} as IssuingCa, { publicKeySpki: spki, profile: FULL_PROFILE })).toThrow(TypeError);
  });
});

describe('loading the issuing CA', () => {
  const dir = new OpensslDir();
  let root: FleetCaMaterial;
  let issuing: { certificatePem: string; privateKeyPem: string };
  beforeAll(async () => {
    root = await createRootCa({ commonName: 'Load Root' }, { curve: 'P-256' });
    const request = await createIssuingCaRequest({ commonName: 'Load Issuing', organization: 'Example' });
    issuing = { certificatePem: await signIntermediate(root, request.csrPem), privateKeyPem: request.privateKeyPem };
    dir.write('root.pem', root.certificatePem);
    dir.write('root.key', root.privateKeyPem);
    dir.write(
      'ext.cnf',
      [
        '[req]',
        'distinguished_name = dn',
        '[dn]',
        '[no_key_cert_sign]',
        'basicConstraints = critical,CA:TRUE',
        'keyUsage = critical,digitalSignature',
        '[ca]',
        'basicConstraints = critical,CA:TRUE,pathlen:0',
        'keyUsage = critical,keyCertSign,cRLSign',
        'subjectKeyIdentifier = hash',
        '[client_only]',
        'basicConstraints = critical,CA:TRUE,pathlen:0',
        'keyUsage = critical,keyCertSign,cRLSign',
        'extendedKeyUsage = clientAuth',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '[server_leaf]',
        'basicConstraints = critical,CA:FALSE',
        'extendedKeyUsage = serverAuth',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => dir.remove());

  it('precomputes the issuer name (byte for byte), SKI and signature algorithm, and checks the chain', () => {
    const ca = loadIssuingCa({ ...issuing, chainPem: root.certificatePem });
    const parsed = new X509Certificate(issuing.certificatePem);
    expect(ca).toMatchObject({ keyType: 'EC P-256', signatureAlgorithm: 'ecdsa-with-SHA256', subject: 'O=Example, CN=Load Issuing', permittedUsages: undefined });
    expect(ca.notAfter.getTime()).toBe(new Date(parsed.validTo).getTime());
    expect(ca.certificateDer.equals(parsed.raw)).toBe(true);
    expect(parsed.raw.includes(ca.subjectDer)).toBe(true);
    expect(ca.chainPem).toBe(root.certificatePem);
    const leaf = issueLeafCertificate(ca, { publicKeySpki: spkiOf(newEcKey().publicKey), profile: FULL_PROFILE });
    expect(leaf.certificateDer.includes(ca.subjectDer)).toBe(true);
    // A "full chain" (the issuing CA, then the root) is accepted too.
    expect(loadIssuingCa({ ...issuing, chainPem: issuing.certificatePem + root.certificatePem }).chainPem).toBe(root.certificatePem);
    expect(loadIssuingCa(issuing).chainPem).toBe('');
  });

  it('refuses a chain that did not issue the CA', async () => {
    const otherRoot = await createRootCa({ commonName: 'Load Root' }, { curve: 'P-256' }); // same name, other key
    expect(() => loadIssuingCa({ ...issuing, chainPem: otherRoot.certificatePem })).toThrow(/chain entry 1 .* did not issue/);
    expect(() => loadIssuingCa({ ...issuing, chainPem: issuing.privateKeyPem })).toThrow(/PRIVATE KEY, not a CERTIFICATE/);
  });

  it('refuses a certificate that is not a CA, even with its key', () => {
    const key = newEcKey();
    const leaf = issueLeafCertificate(loadIssuingCa(issuing), { publicKeySpki: spkiOf(key.publicKey), profile: FULL_PROFILE });
    const privateKeyPem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadIssuingCa({ certificatePem: leaf.certificatePem, privateKeyPem })).toThrow(CaMaterialError);
    expect(() => loadIssuingCa({ certificatePem: leaf.certificatePem, privateKeyPem })).toThrow(/is not a CA/);
  });

  it('refuses a CA without keyCertSign, a key that is not the CA\'s, an unsupported CA key, and garbage', () => {
    dir.run('req', '-x509', '-config', 'ext.cnf', '-extensions', 'no_key_cert_sign', ...EC_P256, '-nodes', '-keyout', 'nkcs.key', '-out', 'nkcs.pem', '-subj', '/CN=No keyCertSign', '-days', '30');
    expect(() => loadIssuingCa({ certificatePem: dir.read('nkcs.pem'), privateKeyPem: dir.read('nkcs.key') })).toThrow(/keyCertSign missing/);

    const stranger = newEcKey().privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadIssuingCa({ certificatePem: issuing.certificatePem, privateKeyPem: stranger })).toThrow(/does not belong to the CA certificate/);

    dir.run('req', '-x509', '-config', 'ext.cnf', '-extensions', 'ca', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp521r1', '-nodes', '-keyout', 'p521.key', '-out', 'p521.pem', '-subj', '/CN=P-521 CA', '-days', '30');
    expect(() => loadIssuingCa({ certificatePem: dir.read('p521.pem'), privateKeyPem: dir.read('p521.key') })).toThrow(/unsupported CA key type ec secp521r1/);

    expect(() => loadIssuingCa({ certificatePem: 'not a certificate', privateKeyPem: issuing.privateKeyPem })).toThrow(/cannot read the CA certificate/);
    expect(() => loadIssuingCa({ certificatePem: issuing.certificatePem, privateKeyPem: 'not a key' })).toThrow(/cannot read the CA private key/);
  });

  it("honours the CA's own extendedKeyUsage: a clientAuth-only CA issues only TLS client certificates", () => {
    dir.run('req', '-new', ...EC_P256, '-nodes', '-keyout', 'client-ca.key', '-out', 'client-ca.csr', '-subj', '/CN=Client-only Issuing CA');
    dir.run('x509', '-req', '-in', 'client-ca.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '7', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'client_only', '-out', 'client-ca.pem');
    const clientCa = loadIssuingCa({ certificatePem: dir.read('client-ca.pem'), privateKeyPem: dir.read('client-ca.key') });
    expect(clientCa.permittedUsages).toEqual(['tls-client']);
    const spki = spkiOf(newEcKey().publicKey);
    expect(() => issueLeafCertificate(clientCa, { publicKeySpki: spki, profile: FULL_PROFILE })).toThrow(/extendedKeyUsage does not allow tls-server/);
    const leaf = issueLeafCertificate(clientCa, { publicKeySpki: spki, profile: { ...FULL_PROFILE, usages: ['tls-client'] } });
    expect(dir.run('verify', '-purpose', 'sslclient', '-CAfile', 'root.pem', '-untrusted', 'client-ca.pem', dir.write('client.pem', leaf.certificatePem))).toContain(': OK');
    // What the check prevents: a serverAuth certificate under this CA, made with openssl, does not verify as a TLS server.
    dir.makeCsr('server', EC_P256);
    dir.run('x509', '-req', '-in', 'server.csr', '-CA', 'client-ca.pem', '-CAkey', 'client-ca.key', '-set_serial', '8', '-days', '1', '-extfile', 'ext.cnf', '-extensions', 'server_leaf', '-out', 'server-under-client-ca.pem');
    const refused = dir.attempt('verify', '-purpose', 'sslserver', '-CAfile', 'root.pem', '-untrusted', 'client-ca.pem', 'server-under-client-ca.pem');
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/at 1 depth lookup: unsuitable certificate purpose/); // depth 1: the CA's EKU
  });
});
