// Embedded SCTs and RFC 6962 log data, against certificates made by the real openssl (which also
// prints the SCTs it sees, an independent reading of the same bytes).
import { X509Certificate } from 'node:crypto';
import { OpensslDir } from '../authority/openssl-test-kit';
import { ctLogId, knownLogs } from './known-logs';
import { parseLogEntry, readSignedTreeHead, verifySignedTreeHead } from './log-entries';
import { embeddedScts, parseSctList } from './sct';
import { encodeSct, encodeSctListExtension, precertLeaf, signedTreeHead, TestCtLogKey, x509Leaf } from './testing/ct-encoding';
import { CtFormatError } from './tls-reader';

const ARGON_2024_ID = '7s3QZNXbGs7FXLedtM0TojKHRny87N7DUUhZRnEftZs=';
const dir = new OpensslDir();
afterAll(() => dir.remove());

function certificate(name: string, extraArgs: string[] = [], issuer?: string): X509Certificate {
  const signer = issuer ? ['-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`] : ['-x509'];
  if (issuer) {
    dir.run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`, ...extraArgs);
    dir.run('x509', '-req', '-in', `${name}.csr`, ...signer, '-days', '10', '-copy_extensions', 'copy', '-out', `${name}.pem`);
  } else {
    dir.run('req', ...signer, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`, '-days', '10', ...extraArgs);
  }
  return new X509Certificate(dir.read(`${name}.pem`));
}

describe('known CT logs', () => {
  it('computes each log id as SHA-256 of its key, matching the ids the published list gives', () => {
    const logs = knownLogs();
    const published: Record<string, string> = {
      [ARGON_2024_ID]: "Google 'Argon2024'",
      'dv+IPwq2+5VRwmHM9Ye6NLSkzbsp3GhCCp/mZ0xaOnQ=': "Google 'Xenon2024'",
      'KTxRllTIOWW6qlD8WAfUt2+/WHopctykwwz05UVH9Hg=': "Google 'Icarus'",
      '2ra/az+1tiKfm8K7XGvocJFxbLtRhIU0vaQ9MEjX+6s=': "Cloudflare 'Nimbus2024'",
      'fVkeEuF4KnscYWd8Xv340IdcFKBOlZ65Ay/ZDowuebg=': 'DigiCert Yeti2025',
      '5tIxY0B3jMEQQQbXcbnOwdJA9paEhvu6hzId/R43jlA=': 'DigiCert Nessie2025',
    };
    expect(Object.fromEntries([...logs].map(([id, log]) => [id, log.name]))).toEqual(published);
  });
});

describe('embeddedScts', () => {
  it('reads the SCTs of a certificate: log ids, names of known logs, timestamps and algorithms, as openssl reads them', () => {
    const testLog = new TestCtLogKey();
    const at1 = new Date('2026-03-01T10:00:00.123Z');
    const at2 = new Date('2026-03-01T10:00:01.000Z');
    const list = encodeSctListExtension([
      encodeSct(Buffer.from(ARGON_2024_ID, 'base64'), at1, Buffer.alloc(70, 1)),
      encodeSct(testLog.logId, at2, Buffer.alloc(71, 2)),
    ]);
    const cert = certificate('with-scts', ['-addext', `1.3.6.1.4.1.11129.2.4.2=DER:${list.toString('hex')}`]);
    const scts = embeddedScts(cert.raw);
    expect(scts).toHaveLength(2);
    expect(scts[0]).toMatchObject({ version: 0, logId: ARGON_2024_ID, logName: "Google 'Argon2024'", logOperator: 'Google', timestamp: at1, signatureAlgorithm: 'ecdsa-sha256' });
    expect(scts[0].signature).toEqual(Buffer.alloc(70, 1));
    expect(scts[1]).toMatchObject({ logId: testLog.logId.toString('base64'), logName: null, timestamp: at2 });
    // A configured log is named too.
    expect(embeddedScts(cert.raw, [{ name: 'Test log', operator: 'certfleet', url: 'http://127.0.0.1/', key: testLog.publicKeyDer.toString('base64') }])[1].logName).toBe('Test log');
    // openssl's own reading of the same extension.
    const text = dir.run('x509', '-in', 'with-scts.pem', '-noout', '-text');
    const opensslIds = [...text.matchAll(/Log ID\s*:\s*((?:[0-9A-F]{2}:?\s*)+)/g)].map((m) => Buffer.from(m[1].replace(/[\s:]/g, ''), 'hex').toString('base64'));
    expect(opensslIds).toEqual(scts.map((sct) => sct.logId));
    expect(text).toContain('Mar  1 10:00:00.123 2026 GMT');
  });

  it('returns [] for a certificate without SCTs and rejects malformed lists with CtFormatError', () => {
    expect(embeddedScts(certificate('plain').raw)).toEqual([]);
    expect(() => parseSctList(Buffer.from('0403000100', 'hex'))).toThrow(CtFormatError);
    expect(() => parseSctList(Buffer.from('0403000200', 'hex'))).toThrow('SCT list: truncated');
    expect(() => parseSctList(Buffer.from('04020000', 'hex'))).toThrow('SCT list: empty');
  });
});

describe('RFC 6962 log entries and tree heads', () => {
  let ca: X509Certificate;
  let leaf: X509Certificate;
  beforeAll(() => {
    ca = certificate('ct-ca', ['-addext', 'basicConstraints=critical,CA:TRUE']);
    leaf = certificate('www', ['-addext', 'subjectAltName=DNS:www.Example.test,DNS:api.example.test,IP:127.0.0.1'], 'ct-ca');
  });

  it('parses x509 entries: fingerprint, names, serial, issuer', () => {
    const at = new Date('2026-05-05T05:05:05.005Z');
    const entry = parseLogEntry({ leaf_input: x509Leaf(leaf.raw, at).toString('base64'), extra_data: '' }, 7);
    expect(entry).toMatchObject({ index: 7, timestamp: at, kind: 'x509', dnsNames: ['www.example.test', 'api.example.test'], issuer: 'CN=ct-ca', subject: 'CN=www' });
    expect(entry.fingerprintSha256).toBe(leaf.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(entry.serial).toBe(leaf.serialNumber.toLowerCase().replace(/^(00)+/, ''));
  });

  it('parses precert entries from their TBSCertificate: names, issuer and serial, no fingerprint', () => {
    const spki = ca.publicKey.export({ type: 'spki', format: 'der' });
    const entry = parseLogEntry({ leaf_input: precertLeaf(leaf.raw, spki, new Date(0)).toString('base64'), extra_data: '' }, 0);
    expect(entry).toMatchObject({ kind: 'precert', fingerprintSha256: null, dnsNames: ['www.example.test', 'api.example.test'], issuer: 'CN=ct-ca' });
    expect(entry.notAfter.toISOString()).toBe(new Date(leaf.validTo).toISOString());
  });

  it('rejects leaves that are not certificate entries', () => {
    expect(() => parseLogEntry({ leaf_input: Buffer.from([1, 0]).toString('base64'), extra_data: '' }, 3)).toThrow('entry 3: unsupported leaf');
    expect(() => parseLogEntry({ leaf_input: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]).toString('base64'), extra_data: '' }, 4)).toThrow('entry 4: unknown entry type 9');
  });

  it('verifies a tree head signed with the log key and refuses a changed one or another key', () => {
    const key = new TestCtLogKey();
    const sth = readSignedTreeHead(signedTreeHead([x509Leaf(leaf.raw, new Date(1))], key));
    expect(() => verifySignedTreeHead(sth, key.publicKeyDer)).not.toThrow();
    expect(() => verifySignedTreeHead({ ...sth, tree_size: 2 }, key.publicKeyDer)).toThrow('does not verify');
    expect(() => verifySignedTreeHead(sth, new TestCtLogKey().publicKeyDer.toString('base64'))).toThrow('does not verify');
    expect(ctLogId(key.publicKeyDer)).toBe(key.logId.toString('base64'));
    expect(() => readSignedTreeHead({ tree_size: -1 })).toThrow('get-sth: bad tree_size');
  });
});
