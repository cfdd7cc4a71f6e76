// Embedded SCT verification against certificates the real `openssl ca` issued with SCTs that test
// logs really signed, cross-checked by OpenSSL's own CT validation (`openssl s_client -ct` over a
// loopback TLS handshake), and against a real public certificate with the real logs' keys.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { OpensslDir } from '../authority/openssl-test-kit';
import { KnownLog } from './known-logs';
import { precertTbs, verifyEmbeddedScts } from './sct-verify';
import { TestCtLogKey } from './testing/ct-encoding';
import { SctTestCa, SctTestCertificate } from './testing/sct-test-ca';

jest.setTimeout(60_000);

const ecLog = new TestCtLogKey();
const rsaLog = new TestCtLogKey('rsa');
const strangerLog = new TestCtLogKey();
const configured = (name: string, key: TestCtLogKey): KnownLog => ({ name, operator: 'test', url: 'http://127.0.0.1/', key: key.publicKeyDer.toString('base64') });
const LOGS = [configured('ec log', ecLog), configured('rsa log', rsaLog)];
const loggedAt = new Date(Date.now() - 3_600_000);

let ca: SctTestCa;
let otherCa: SctTestCa;
let good: SctTestCertificate;
let tampered: SctTestCertificate;
let mislabelled: SctTestCertificate;
const dir = new OpensslDir();

beforeAll(() => {
  ca = new SctTestCa();
  otherCa = new SctTestCa('/CN=Another CA/O=certfleet tests');
  good = ca.issue('good', 'ct.example.test', (tbs) => [
    ecLog.precertSct(tbs, ca.spki, loggedAt),
    rsaLog.precertSct(tbs, ca.spki, new Date(loggedAt.getTime() + 1), Buffer.from('extension bytes the log signed too')),
    strangerLog.precertSct(tbs, ca.spki, loggedAt),
  ]);
  tampered = ca.issue('tampered', 'ct.example.test', (tbs) => {
    const sct = ecLog.precertSct(tbs, ca.spki, loggedAt);
    sct[sct.length - 1] ^= 1; // the last byte of the ECDSA signature's s
    return [sct];
  });
  mislabelled = ca.issue('mislabelled', 'ct.example.test', (tbs) => {
    const sct = ecLog.precertSct(tbs, ca.spki, loggedAt);
    sct[1 + 32 + 8 + 2 + 1] = 1; // SignatureAlgorithm rsa, on an ECDSA signature by an EC log
    return [sct];
  });
});
afterAll(() => {
  ca?.remove();
  otherCa?.remove();
  dir.remove();
});

describe('precertTbs', () => {
  it('is byte for byte the TBSCertificate openssl issued without the SCT list', () => {
    expect(good.certificate.raw.includes(good.precertTbs)).toBe(false);
    expect(precertTbs(good.certificate.raw)).toEqual(good.precertTbs);
  });
});

describe('verifyEmbeddedScts', () => {
  it('verifies ECDSA and RSA logs (SCT extensions included) and says which logs it does not know', () => {
    const results = verifyEmbeddedScts(good.certificate.raw, ca.spki, LOGS);
    expect(results.map((r) => [r.logName, r.signatureAlgorithm, r.status, r.reason])).toEqual([
      ['ec log', 'ecdsa-sha256', 'valid', undefined],
      ['rsa log', 'rsa-sha256', 'valid', undefined],
      [null, 'ecdsa-sha256', 'unknown log', 'the log is neither built in nor configured'],
    ]);
  });

  it('refuses a changed signature, another issuer and a log key of another type; without the issuer it cannot tell', () => {
    expect(verifyEmbeddedScts(tampered.certificate.raw, ca.spki, LOGS).map((r) => [r.status, r.reason])).toEqual([['invalid', "the signature does not verify with the log's key"]]);
    expect(verifyEmbeddedScts(good.certificate.raw, otherCa.spki, LOGS).map((r) => r.status)).toEqual(['invalid', 'invalid', 'unknown log']);
    expect(verifyEmbeddedScts(good.certificate.raw, null, LOGS).map((r) => r.status)).toEqual(['issuer unknown', 'issuer unknown', 'unknown log']);
    expect(verifyEmbeddedScts(mislabelled.certificate.raw, ca.spki, LOGS).map((r) => [r.status, r.reason])).toEqual([['invalid', 'signed with rsa-sha256, but the log key is ec']]);
    expect(verifyEmbeddedScts(new X509Certificate(readFileSync(ca.pemFile)).raw, null)).toEqual([]);
  });

  it('agrees with OpenSSL, which validates the same SCTs itself during a TLS handshake', async () => {
    expect(await opensslSctStatuses(good)).toEqual(['?: unknown log', 'ec log: valid', 'rsa log: valid']);
    expect(await opensslSctStatuses(tampered)).toEqual(['ec log: invalid']);
    // OpenSSL checks the signature only, not the algorithm the SCT declares, so the mislabelled one
    // passes there: its one fault is the label, which Chrome's verifier (and this one) refuses.
    expect(await opensslSctStatuses(mislabelled)).toEqual(['ec log: valid']);
  });

  it('verifies a real public certificate with the keys of the real logs in the built-in list', () => {
    const [leaf, issuer] = readFileSync(join(__dirname, 'testing', 'wikipedia-2023.pem'), 'utf8')
      .split(/(?=-----BEGIN CERTIFICATE-----)/)
      .filter((part) => part.startsWith('-----BEGIN'))
      .map((pem) => new X509Certificate(pem));
    expect(leaf.verify(issuer.publicKey)).toBe(true);
    const spki = issuer.publicKey.export({ type: 'spki', format: 'der' });
    expect(verifyEmbeddedScts(leaf.raw, spki).map((r) => [r.logName, r.timestamp.toISOString(), r.status])).toEqual([
      ["Google 'Argon2024'", '2023-10-18T15:06:00.690Z', 'valid'],
      [null, '2023-10-18T15:06:00.577Z', 'unknown log'],
      ["Cloudflare 'Nimbus2024'", '2023-10-18T15:06:00.591Z', 'valid'],
    ]);
    const otherIssuer = new X509Certificate(readFileSync(ca.pemFile)).publicKey.export({ type: 'spki', format: 'der' });
    expect(verifyEmbeddedScts(leaf.raw, otherIssuer).map((r) => r.status)).toEqual(['invalid', 'unknown log', 'invalid']);
  });
});

/** `openssl s_client -ct` against a loopback TLS server serving `served`: "log: status" per SCT, sorted. */
async function opensslSctStatuses(served: SctTestCertificate): Promise<string[]> {
  const logFile = dir.write('ct-logs.cnf', ['enabled_logs = ec,rsa', '[ec]', 'description = ec log', `key = ${LOGS[0].key}`, '[rsa]', 'description = rsa log', `key = ${LOGS[1].key}`, ''].join('\n'));
  const server = tls.createServer({ cert: readFileSync(served.pemFile), key: readFileSync(served.keyFile) }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'ct.example.test', '-CAfile', ca.pemFile, '-ct', '-ctlogfile', logFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    await new Promise((resolve) => child.on('close', resolve));
    expect(out).toContain('Verify return code: 0 (ok)');
    // One block per SCT (OpenSSL lists them in its own order): status, then the log's name when it knows it.
    return [...out.matchAll(/SCT validation status: (.+)\nSigned Certificate Timestamp:\n.*\n(?:\s+Log\s+: (.+)\n)?/g)].map((m) => `${m[2] ?? '?'}: ${m[1]}`).sort();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
