import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CaMaterialError } from '../authority/errors';
import { OpensslDir } from '../authority/openssl-test-kit';
import { contextTag, expectTag, readChildren, readWhole, TAG } from '../der/der';
import { loadIssuingCa } from '../issuance/issuing-ca';
import { buildCrl, encodeRevokedEntry } from './crl';
import { REVOCATION_REASONS } from './reasons';
import { createTestCa, createTestLeaf, createTestRoot, opensslTime, TestCa } from './revocation-test-kit';

const HOUR_MS = 3_600_000;
// The names `openssl crl -text` prints for each reasonCode.
const OPENSSL_REASON_TEXT: Record<string, string> = {
  keyCompromise: 'Key Compromise',
  caCompromise: 'CA Compromise',
  affiliationChanged: 'Affiliation Changed',
  superseded: 'Superseded',
  cessationOfOperation: 'Cessation Of Operation',
  certificateHold: 'Certificate Hold',
  removeFromCRL: 'Remove From CRL',
  privilegeWithdrawn: 'Privilege Withdrawn',
  aACompromise: 'AA Compromise',
};

/** The revokedCertificates entries of a DER CRL, counted with der.ts's reader. */
function revokedCount(crl: Buffer): number {
  const [tbs] = readChildren(crl, expectTag(readWhole(crl), TAG.SEQUENCE, 'CertificateList'));
  const fields = readChildren(crl, tbs);
  const revoked = fields[5]?.tag === TAG.SEQUENCE ? fields[5] : undefined;
  expect(fields[fields.length - 1].tag).toBe(contextTag(0, true));
  return revoked ? readChildren(crl, revoked).length : 0;
}

describe('CRLs', () => {
  const dir = new OpensslDir();
  let root: Awaited<ReturnType<typeof createTestRoot>>;
  let p256: TestCa;
  const thisUpdate = new Date(Math.floor(Date.now() / 1000) * 1000 - HOUR_MS);
  const nextUpdate = new Date(thisUpdate.getTime() + 24 * HOUR_MS);

  beforeAll(async () => {
    root = await createTestRoot(dir);
    p256 = await createTestCa(dir, root.root, 'P-256');
  });
  afterAll(() => dir.remove());

  const writeCrl = (name: string, der: Buffer) => dir.write(name, der);
  const verifyCrl = (file: string, chainFile: string) => dir.attempt('crl', '-inform', 'DER', '-in', file, '-CAfile', chainFile, '-verify', '-noout');
  const crlText = (file: string) => dir.run('crl', '-inform', 'DER', '-in', file, '-noout', '-text');

  it.each(['P-256', 'P-384', 'RSA'] as const)('signs a CRL that openssl verifies and reads back field by field (%s CA)', async (kind) => {
    const test = kind === 'P-256' ? p256 : await createTestCa(dir, root.root, kind);
    const revokedAt = new Date(thisUpdate.getTime() - 5 * 60_000);
    const reasons = REVOCATION_REASONS.filter((r) => r !== 'removeFromCRL');
    const serials = reasons.map((_, i) => `7${i.toString(16)}a1b2c3d4e5f60718293a4b5c6d7e8f`);
    const entries = reasons.map((reason, i) => encodeRevokedEntry({ serialHex: serials[i], revokedAt, reason }));
    const file = writeCrl(`full-${kind}.crl`, buildCrl(test.ca, { crlNumber: 42n, thisUpdate, nextUpdate, entries }));

    const verified = verifyCrl(file, test.chainFile);
    expect(verified).toEqual({ status: 0, output: 'verify OK\n' });
    const text = crlText(file);
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toContain(`Signature Algorithm: ${test.ca.signatureAlgorithm}`);
    expect(text).toContain(`Last Update: ${opensslTime(thisUpdate)}`);
    expect(text).toContain(`Next Update: ${opensslTime(nextUpdate)}`);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+42\n/);
    const aki = /X509v3 Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)![1];
    expect(aki.replace(/:/g, '').toLowerCase()).toBe(test.ca.subjectKeyIdentifier.toString('hex'));
    expect(text).not.toContain('Delta CRL Indicator');
    reasons.forEach((reason, i) => {
      const entry = new RegExp(`Serial Number: ${serials[i].toUpperCase()}\\n\\s+Revocation Date: ${opensslTime(revokedAt)}\\n(\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+(.+)\\n)?`).exec(text);
      expect(entry).not.toBeNull();
      // 'unspecified' is written as no reasonCode at all (RFC 5280 5.3.1).
      expect(entry![2]).toBe(reason === 'unspecified' ? undefined : OPENSSL_REASON_TEXT[reason]);
    });
  }, 60_000);

  it('revokes a real leaf: openssl verify -crl_check fails it and still passes a leaf not on the CRL', () => {
    const revoked = createTestLeaf(dir, p256.ca, 'crl-revoked');
    const good = createTestLeaf(dir, p256.ca, 'crl-good');
    const der = buildCrl(p256.ca, {
      crlNumber: 7n,
      thisUpdate,
      nextUpdate,
      entries: [encodeRevokedEntry({ serialHex: revoked.serialHex, revokedAt: thisUpdate, reason: 'keyCompromise' })],
    });
    const pem = dir.run('crl', '-inform', 'DER', '-in', writeCrl('leaf.crl', der), '-outform', 'PEM');
    const crlFile = dir.write('leaf-crl.pem', pem);
    const check = (file: string) => dir.attempt('verify', '-crl_check', '-CAfile', p256.chainFile, '-CRLfile', crlFile, file);
    expect(check(revoked.file)).toMatchObject({ status: 2, output: expect.stringMatching(/certificate revoked/) });
    expect(check(good.file)).toMatchObject({ status: 0, output: expect.stringContaining(': OK') });
  });

  it('omits revokedCertificates when nothing is revoked, and openssl verifies the empty CRL', () => {
    const der = buildCrl(p256.ca, { crlNumber: 1n, thisUpdate, nextUpdate, entries: [] });
    expect(revokedCount(der)).toBe(0);
    const [tbs] = readChildren(der, readWhole(der));
    expect(readChildren(der, tbs).map((f) => f.tag)).toEqual([TAG.INTEGER, TAG.SEQUENCE, TAG.SEQUENCE, TAG.UTC_TIME, TAG.UTC_TIME, contextTag(0, true)]);
    const file = writeCrl('empty.crl', der);
    expect(verifyCrl(file, p256.chainFile).output).toBe('verify OK\n');
    expect(crlText(file)).toContain('No Revoked Certificates.');
  });

  it('makes delta CRLs (critical Delta CRL Indicator) and full CRLs that point at them with FreshestCRL', () => {
    const entries = [
      encodeRevokedEntry({ serialHex: '0A0B0C', revokedAt: thisUpdate, reason: 'superseded' }),
      encodeRevokedEntry({ serialHex: '0d', revokedAt: thisUpdate, reason: 'removeFromCRL' }),
    ];
    const delta = writeCrl('delta.crl', buildCrl(p256.ca, { crlNumber: 11n, deltaBaseCrlNumber: 10n, thisUpdate, nextUpdate, entries }));
    expect(verifyCrl(delta, p256.chainFile).output).toBe('verify OK\n');
    const deltaText = crlText(delta);
    expect(deltaText).toMatch(/X509v3 Delta CRL Indicator: critical\n\s+10\n/);
    expect(deltaText).toMatch(/X509v3 CRL Number: \n\s+11\n/);
    expect(deltaText).toMatch(/Serial Number: 0A0B0C\n.*\n.*\n.*\n\s+Superseded\n/);
    expect(deltaText).toMatch(/Serial Number: 0D\n.*\n.*\n.*\n\s+Remove From CRL\n/);
    expect(deltaText).not.toContain('Freshest CRL');

    const url = 'http://pki.example.test/crl/ca-1-delta.crl';
    const full = writeCrl('full-with-delta.crl', buildCrl(p256.ca, { crlNumber: 10n, thisUpdate, nextUpdate, entries: entries.slice(0, 1), freshestCrlUrl: url }));
    expect(verifyCrl(full, p256.chainFile).output).toBe('verify OK\n');
    expect(crlText(full)).toMatch(new RegExp(`X509v3 Freshest CRL: \\n\\s+Full Name:\\n\\s+URI:${url}\\n`));
  });

  it('writes large CRL numbers and serials as openssl reads them', () => {
    const crlNumber = (1n << 158n) + 12345n; // 20 octets: the RFC 5280 maximum
    const serialHex = '7f' + 'ee'.repeat(19);
    const file = writeCrl('big-number.crl', buildCrl(p256.ca, { crlNumber, thisUpdate, nextUpdate, entries: [encodeRevokedEntry({ serialHex, revokedAt: thisUpdate, reason: 'unspecified' })] }));
    expect(verifyCrl(file, p256.chainFile).output).toBe('verify OK\n');
    expect(dir.run('crl', '-inform', 'DER', '-in', file, '-noout', '-crlnumber').trim()).toBe(`crlNumber=0x${crlNumber.toString(16).toUpperCase()}`);
    expect(crlText(file)).toContain(`Serial Number: ${serialHex.toUpperCase()}`);
  });

  it('refuses bad options and bad entries', () => {
    const base = { crlNumber: 2n, thisUpdate, nextUpdate, entries: [] as Buffer[] };
    expect(() => buildCrl(p256.ca, { ...base, nextUpdate: thisUpdate })).toThrow(/nextUpdate must be later/);
    expect(() => buildCrl(p256.ca, { ...base, thisUpdate: new Date(NaN) })).toThrow(RangeError);
    expect(() => buildCrl(p256.ca, { ...base, crlNumber: -1n })).toThrow(/crlNumber must be a non-negative bigint/);
    expect(() => buildCrl(p256.ca, { ...base, crlNumber: 1n << 160n })).toThrow(/longer than 20 octets/);
    expect(() => buildCrl(p256.ca, { ...base, deltaBaseCrlNumber: 2n })).toThrow(/larger crlNumber than its base/);
    expect(() => buildCrl(p256.ca, { ...base, deltaBaseCrlNumber: 1n, freshestCrlUrl: 'http://x.test/d.crl' })).toThrow(/not on a delta CRL/);
    expect(() => buildCrl(p256.ca, { ...base, freshestCrlUrl: 'ldap://x.test/d.crl' })).toThrow(/must be http/);
    expect(() => buildCrl(p256.ca, { ...base, entries: [Buffer.from('0a0b', 'hex')] })).toThrow(/entries\[0\] is not an encoded entry/);
    expect(() => buildCrl({} as never, base)).toThrow(/must come from loadIssuingCa/);
    expect(() => encodeRevokedEntry({ serialHex: '00', revokedAt: thisUpdate, reason: 'superseded' })).toThrow(/must be positive/);
    expect(() => encodeRevokedEntry({ serialHex: '12:34', revokedAt: thisUpdate, reason: 'superseded' })).toThrow(/hex digits/);
    expect(() => encodeRevokedEntry({ serialHex: 'ff'.repeat(20), revokedAt: thisUpdate, reason: 'superseded' })).toThrow(/longer than 20 octets/);
    expect(() => encodeRevokedEntry({ serialHex: '01', revokedAt: new Date(NaN), reason: 'superseded' })).toThrow(/not a valid date/);
    expect(() => encodeRevokedEntry({ serialHex: '01', revokedAt: thisUpdate, reason: 'stolen' as never })).toThrow(/unknown revocation reason/);
  });

  it('refuses to sign CRLs for a CA whose keyUsage lacks cRLSign', () => {
    dir.write('root.key', root.root.privateKeyPem);
    dir.write('no-crl-sign.ext', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,digitalSignature\n');
    dir.run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'no-crl.key', '-out', 'no-crl.csr', '-subj', '/CN=No CRL Sign CA');
    dir.run('x509', '-req', '-in', 'no-crl.csr', '-CA', root.rootFile, '-CAkey', 'root.key', '-CAcreateserial', '-days', '30', '-extfile', 'no-crl-sign.ext', '-out', 'no-crl.pem');
    const ca = loadIssuingCa({ certificatePem: dir.read('no-crl.pem'), privateKeyPem: dir.read('no-crl.key') });
    expect(() => buildCrl(ca, { crlNumber: 1n, thisUpdate, nextUpdate, entries: [] })).toThrow(CaMaterialError);
    expect(() => buildCrl(ca, { crlNumber: 1n, thisUpdate, nextUpdate, entries: [] })).toThrow(/keyUsage cRLSign missing/);
  });

  it('revokes with 100,000 entries already on the CRL: one more entry and a new CRL, which openssl verifies', () => {
    const revokedAt = new Date(thisUpdate.getTime() - HOUR_MS);
    let started = performance.now();
    const entries: Buffer[] = [];
    for (let i = 0; i < 100_000; i++) {
      entries.push(encodeRevokedEntry({ serialHex: (0x10_0000_0000_0000n + BigInt(i) * 7919n).toString(16).padStart(32, '0'), revokedAt, reason: i % 3 ? 'superseded' : 'unspecified' }));
    }
    const encodeMs = performance.now() - started;
    buildCrl(p256.ca, { crlNumber: 100n, thisUpdate, nextUpdate, entries }); // first build: warms up

    // The revocation itself: encode one entry, build and sign the whole CRL again.
    started = performance.now();
    entries.push(encodeRevokedEntry({ serialHex: 'abcdef01', revokedAt: thisUpdate, reason: 'keyCompromise' }));
    const der = buildCrl(p256.ca, { crlNumber: 101n, thisUpdate, nextUpdate, entries });
    const revokeMs = performance.now() - started;
    process.stdout.write(`100,000 entries encoded in ${encodeMs.toFixed(0)} ms; revoke (1 entry + buildCrl over 100,001 entries, ${(der.length / 1e6).toFixed(1)} MB) took ${revokeMs.toFixed(1)} ms\n`);
    expect(revokeMs).toBeLessThan(5_000);

    expect(revokedCount(der)).toBe(100_001);
    const file = writeCrl('large.crl', der);
    expect(verifyCrl(file, p256.chainFile)).toEqual({ status: 0, output: 'verify OK\n' });
    expect(dir.run('crl', '-inform', 'DER', '-in', file, '-noout', '-crlnumber').trim()).toBe('crlNumber=0x65');
    // The newest entry is the last one; read it through openssl's text output of the CRL's tail.
    const tail = execFileSync('sh', ['-c', `openssl crl -inform DER -in '${file}' -noout -text | tail -n 12`], { encoding: 'utf8' });
    expect(tail).toMatch(/Serial Number: ABCDEF01\n\s+Revocation Date: .*\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: \n\s+Key Compromise\n/);
  }, 120_000);
});
