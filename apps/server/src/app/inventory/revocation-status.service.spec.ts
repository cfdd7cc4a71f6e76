import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import { readCertificateFile, RevocationChecker } from '@certfleet/pki';
import { EC_P256 } from '../../../../../libs/pki/src/authority/openssl-test-kit';
import { Issued, OcspResponder, reservePort, TestCa, TestHttpServer } from '../../../../../libs/pki/src/revocation-check/test-kit';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { Agent } from '../agents/agent.entity';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import { CertificateRevocationStatus } from './certificate-revocation-status.entity';
import { parseFingerprints } from './inventory.controller';
import { InventoryItem } from './inventory-item.entity';
import { InventoryQueryService } from './inventory-query.service';
import { RevocationStatusService } from './revocation-status.service';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const WEB1 = '11111111-1111-4111-8111-111111111111';
const WEB2 = '22222222-2222-4222-8222-222222222222';

// External CAs made by `openssl ca`, shared by both databases: one answers over OCSP (a real
// `openssl ocsp` responder behind a counting loopback proxy), one publishes only a CRL, one plays
// certfleet's own issuing CA (known from issuing_cas, installed nowhere), one is installed nowhere.
let ocspCa: TestCa;
let crlCa: TestCa;
let internalCa: TestCa;
let absentCa: TestCa;
let http: TestHttpServer;
let responder: OcspResponder;
const leaf: Record<string, Issued> = {};

beforeAll(async () => {
  [ocspCa, crlCa, internalCa, absentCa] = ['/CN=Partner OCSP CA/O=External', '/CN=Partner CRL CA/O=External', '/CN=certfleet Issuing/O=Lab', '/CN=Never Installed CA'].map(
    (subject) => new TestCa(subject),
  );
  http = await TestHttpServer.start();
  const ocsp = [http.url('/ocsp')];
  const nothingListens = [`http://127.0.0.1:${await reservePort()}/`];
  leaf.good = ocspCa.issue('good', { ocsp });
  leaf.revoked = ocspCa.issue('revoked', { ocsp });
  leaf.stranger = ocspCa.issueUnrecorded('stranger', '7E57AB1E', { ocsp });
  leaf.dead = ocspCa.issue('dead', { ocsp: nothingListens });
  leaf.expired = issueExpired(ocspCa, 'expired', ocsp[0]);
  leaf.crlGood = crlCa.issue('crl-good', { crl: [http.url('/partner.crl')] });
  leaf.crlRevoked = crlCa.issue('crl-revoked', { crl: [http.url('/partner.crl')] });
  leaf.internal = internalCa.issue('internal', { crl: [http.url('/internal.crl')] });
  leaf.orphan = absentCa.issue('orphan', { ocsp });
  // Reported only later in the test.
  leaf.later = ocspCa.issue('later', { ocsp });
  ocspCa.revoke('revoked', 'keyCompromise');
  crlCa.revoke('crl-revoked', 'cessationOfOperation');
  http.serve('/partner.crl', crlCa.crl().der);
  http.serve('/internal.crl', internalCa.crl().der);

  const port = await reservePort();
  responder = await OcspResponder.start(ocspCa.dir, port, ['-index', 'index.txt', '-CA', 'ca.pem', '-rsigner', 'ca.pem', '-rkey', 'ca.key', '-ndays', '1']);
  // Forwards to openssl so the test can count what reaches the responder.
  http.on('/ocsp', (request, response, body) => {
    fetch(responder.url, { method: 'POST', headers: { 'content-type': request.headers['content-type'] ?? 'application/ocsp-request' }, body }).then(
      async (answer) => {
        response.statusCode = answer.status;
        response.setHeader('content-type', answer.headers.get('content-type') ?? 'application/ocsp-response');
        response.end(Buffer.from(await answer.arrayBuffer()));
      },
      () => ((response.statusCode = 502), response.end()),
    );
  });
});

afterAll(async () => {
  await responder?.stop();
  await http?.close();
  for (const ca of [ocspCa, crlCa, internalCa, absentCa]) ca?.dir.remove();
});

/** A certificate that expired in 2020, signed by `ca` through `openssl ca` with explicit dates. */
function issueExpired(ca: TestCa, name: string, ocspUrl: string): Issued {
  ca.dir.makeCsr(name, EC_P256);
  ca.dir.write(`${name}.ext`, `basicConstraints = CA:FALSE\nauthorityInfoAccess = OCSP;URI:${ocspUrl}\n`);
  ca.dir.run('ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`, '-extfile', `${name}.ext`, '-notext', '-subj', `/CN=${name}`,
    '-startdate', '20200101000000Z', '-enddate', '20200201000000Z');
  const certificate = new X509Certificate(ca.dir.read(`${name}.pem`));
  return { name, der: certificate.raw, serial: certificate.serialNumber.toUpperCase() };
}

const fingerprint = (der: Buffer) => readCertificateFile(der, { path: 'x.pem', passwords: [] }).certificates[0].fingerprintSha256;

/** An inventory row as the report service stores it, with the fields discovery derives from the DER. */
function inventoryRow(agentId: string, path: string, der: Buffer): InventoryItem {
  const [c] = readCertificateFile(der, { path, passwords: [] }).certificates;
  const now = new Date();
  return {
    agentId, itemKey: `${path}|0`, kind: 'certificate', path, entry: '0', fingerprintSha256: c.fingerprintSha256, subject: c.subject, issuer: c.issuer,
    serial: c.serial, notBefore: c.notBefore ?? null, notAfter: c.notAfter ?? null, detail: {}, der, seenSequence: '1', firstSeenAt: now, updatedAt: now,
  };
}

describe.each(['pglite', 'postgresql'] as const)('RevocationStatusService on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let checker: RevocationChecker;
  let check: jest.SpyInstance;
  let service: RevocationStatusService;
  let inventory: InventoryQueryService;
  // The checker's clock runs ahead by this much when a test says so.
  let clockAhead = 0;
  let baseline: { ocsp: number; crl: number };
  const status = async (issued: Issued) => ds.getRepository(CertificateRevocationStatus).findOneByOrFail({ fingerprintSha256: fingerprint(issued.der) });
  const requests = () => ({ ocsp: http.hits.get('/ocsp') ?? 0, crl: (http.hits.get('/partner.crl') ?? 0) + (http.hits.get('/internal.crl') ?? 0) });

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'revocation_status'));
    const config = loadServerConfig({ CERTFLEET_REVOCATION_CHECK_CONCURRENCY: '3' });
    checker = new RevocationChecker({ timeoutMs: 2000, now: () => new Date(Date.now() + clockAhead) });
    baseline = requests();
    check = jest.spyOn(checker, 'check');
    service = new RevocationStatusService(ds, config, checker);
    inventory = new InventoryQueryService(ds, config);
    for (const [id, hostname] of [[WEB1, 'web-01'], [WEB2, 'web-02']]) {
      await ds.getRepository(Agent).insert({ id, hostname, hostFacts: {}, enrolledAt: new Date(), certificateSerial: id.slice(0, 2), certificateNotAfter: new Date(Date.now() + DAY) });
    }
    const onWeb1 = { 'partner-ocsp-ca.pem': ocspCa.der, 'partner-crl-ca.pem': crlCa.der, ...Object.fromEntries(Object.entries(leaf).filter(([name]) => name !== 'later').map(([name, c]) => [`${name}.pem`, c.der])) };
    await ds.getRepository(InventoryItem).insert(Object.entries(onWeb1).map(([file, der]) => inventoryRow(WEB1, `/etc/ssl/${file}`, der)));
    // The same good certificate on a second host, under another path.
    await ds.getRepository(InventoryItem).insert(inventoryRow(WEB2, '/srv/app/tls.pem', leaf.good.der));
    await ds.getRepository(IssuingCa).insert({
      name: 'lab', status: 'active', csrPem: 'unused here', certificatePem: internalCa.dir.read('ca.pem'), chainPem: '', rootPem: null,
      encryptedPrivateKey: 'unused here', fingerprintSha256: fingerprint(internalCa.der), notAfter: new Date(Date.now() + 30 * DAY), activatedAt: new Date(),
    });
  });
  afterAll(() => close?.());

  it('records good, revoked (reason and date), unknown and unreachable answers from OCSP and CRLs', async () => {
    const run = await service.runPass();
    // 9 leaves + 2 CA certificates; the good one counted once though two hosts hold it.
    expect(run).toEqual({ checked: 11, counts: { good: 3, revoked: 2, unknown: 5, unreachable: 1 }, remaining: 0 });
    expect(await status(leaf.good)).toMatchObject({ status: 'good', source: 'ocsp', url: http.url('/ocsp'), reason: null, revokedAt: null });
    expect(await status(leaf.revoked)).toMatchObject({ status: 'revoked', source: 'ocsp', reason: 'keyCompromise', revokedAt: ocspCa.revokedAt(leaf.revoked.serial) });
    expect(await status(leaf.stranger)).toMatchObject({ status: 'unknown', source: 'ocsp', detail: expect.stringContaining('the responder does not know this certificate') });
    expect(await status(leaf.dead)).toMatchObject({ status: 'unreachable', source: 'ocsp', detail: expect.stringMatching(/connection refused/) });
    expect(await status(leaf.crlGood)).toMatchObject({ status: 'good', source: 'crl', url: http.url('/partner.crl') });
    expect(await status(leaf.crlRevoked)).toMatchObject({ status: 'revoked', source: 'crl', reason: 'cessationOfOperation', revokedAt: crlCa.revokedAt(leaf.crlRevoked.serial) });
    // Issuer from issuing_cas: certfleet's own CA need not be installed on any host.
    expect(await status(leaf.internal)).toMatchObject({ status: 'good', source: 'crl', url: http.url('/internal.crl') });
  });

  it('keeps answers until nextUpdate, retries unreachable ones within minutes', async () => {
    const good = await status(leaf.good);
    expect(good.nextCheckAt.getTime() - Date.now()).toBeGreaterThan(DAY - 5 * 60_000);
    const dead = await status(leaf.dead);
    expect(dead.nextCheckAt.getTime() - dead.checkedAt.getTime()).toBeGreaterThan(4 * 60_000);
    expect(dead.nextCheckAt.getTime() - dead.checkedAt.getTime()).toBeLessThanOrEqual(5 * 60_000);
  });

  it('checks a certificate two hosts hold once', async () => {
    expect(check.mock.calls.filter(([der]) => (der as Buffer).equals(leaf.good.der))).toHaveLength(1);
    expect(await ds.getRepository(CertificateRevocationStatus).count()).toBe(11);
  });

  it('sends no request on a second pass within nextUpdate, nor when asked to check now', async () => {
    const before = requests();
    // One OCSP request each for good, revoked and stranger; one download of each CRL.
    expect({ ocsp: before.ocsp - baseline.ocsp, crl: before.crl - baseline.crl }).toEqual({ ocsp: 3, crl: 2 });
    // Nothing is due: only the unreachable one would be, in five minutes.
    expect(await service.runPass()).toEqual({ checked: 0, counts: { good: 0, revoked: 0, unknown: 0, unreachable: 0 }, remaining: 0 });
    // A forced check asks the checker again, which answers from what it cached.
    const calls = check.mock.calls.length;
    const forced = await service.checkNow();
    expect(forced).toEqual({ checked: 11, counts: { good: 3, revoked: 2, unknown: 5, unreachable: 1 }, remaining: 0 });
    expect(check.mock.calls.length).toBeGreaterThan(calls);
    expect(requests()).toEqual(before);
    expect((await status(leaf.good)).detail).toMatch(/\(cached answer fetched /);
  });

  it('gives a self-signed root, a certificate whose issuer is nowhere, and an expired one status unknown with the reason, asking nobody', async () => {
    expect(await status({ der: ocspCa.der } as Issued)).toMatchObject({ status: 'unknown', source: 'none', detail: expect.stringMatching(/^not checked: self-signed/) });
    expect(await status(leaf.orphan)).toMatchObject({
      status: 'unknown',
      source: 'none',
      detail: `not checked: its issuer "CN=Never Installed CA" is not in the inventory of any host nor among certfleet's issuing CAs`,
    });
    expect(await status(leaf.expired)).toMatchObject({ status: 'unknown', source: 'none', detail: 'not checked: expired 2020-02-01T00:00:00.000Z' });
    const askedAbout = check.mock.calls.map(([der]) => der as Buffer);
    for (const der of [ocspCa.der, crlCa.der, leaf.orphan.der, leaf.expired.der]) expect(askedAbout.some((d) => d.equals(der))).toBe(false);
  });

  it('checks only the certificates named, and keeps a final revocation when the responder cannot be asked later', async () => {
    clockAhead = 2 * DAY;
    const run = await service.checkNow([fingerprint(leaf.revoked.der), fingerprint(leaf.crlGood.der)], new Date(Date.now() + clockAhead)).finally(() => (clockAhead = 0));
    // Two days on, the cached answers and the CRL served are past nextUpdate: the good one cannot be confirmed...
    expect(run.checked).toBe(2);
    expect((await status(leaf.crlGood)).status).toBe('unreachable');
    // ...while a revocation is not undone by that (keyCompromise is final).
    expect(await status(leaf.revoked)).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect(run.counts).toEqual({ good: 0, revoked: 1, unknown: 0, unreachable: 1 });
  });

  it('shows the last answer in the inventory views, shared by every host, and filters by it', async () => {
    const revoked = await inventory.certificates({ revocation: 'revoked' });
    expect(revoked.items.map((c) => c.path).sort()).toEqual(['/etc/ssl/crlRevoked.pem', '/etc/ssl/revoked.pem']);
    expect(revoked.items.find((c) => c.path === '/etc/ssl/revoked.pem')!.revocation).toEqual({
      status: 'revoked',
      reason: 'keyCompromise',
      revokedAt: ocspCa.revokedAt(leaf.revoked.serial),
      source: 'ocsp',
      checkedAt: expect.any(Date),
      detail: expect.stringContaining('says revoked'),
    });
    const good = await inventory.certificates({ revocation: 'good' });
    expect(good.items.map((c) => `${c.hostname}:${c.path}`).sort()).toEqual(['web-01:/etc/ssl/good.pem', 'web-01:/etc/ssl/internal.pem', 'web-02:/srv/app/tls.pem']);
    expect((await inventory.certificates({ revocation: 'unreachable' })).total).toBe(2);
    expect((await inventory.certificates({ revocation: 'unknown', agent: 'web-02' })).total).toBe(0);
  });

  it('shows null until a certificate is checked, checks new ones on the next pass, and forgets those no host reports', async () => {
    await ds.getRepository(InventoryItem).delete({ agentId: WEB1, path: '/etc/ssl/orphan.pem' });
    await ds.getRepository(InventoryItem).insert([inventoryRow(WEB2, '/srv/app/root.pem', crlCa.der), inventoryRow(WEB2, '/srv/app/later.pem', leaf.later.der)]);
    const listed = async () => new Map((await inventory.certificates({ agent: 'web-02' })).items.map((c) => [c.path, c.revocation]));
    expect((await listed()).get('/srv/app/later.pem')).toBeNull();
    expect((await listed()).get('/srv/app/root.pem')).toMatchObject({ status: 'unknown' }); // web-01's copy was checked
    expect(await service.runPass()).toMatchObject({ checked: 1, counts: { good: 1 } });
    expect((await listed()).get('/srv/app/later.pem')).toMatchObject({ status: 'good', source: 'ocsp' });
    expect(await ds.getRepository(CertificateRevocationStatus).countBy({ fingerprintSha256: fingerprint(leaf.orphan.der) })).toBe(0);
  });

  it('runs passes on an unref\'d timer: the first soon after start, then at the earliest next check (here an unreachable retry)', async () => {
    const background = new RevocationStatusService(ds, loadServerConfig({}), checker);
    const setTimer = jest.spyOn(global, 'setTimeout');
    try {
      background.onApplicationBootstrap();
      const first = setTimer.mock.calls.findIndex(([, ms]) => ms === 10_000);
      expect(first).toBeGreaterThanOrEqual(0);
      expect((setTimer.mock.results[first].value as NodeJS.Timeout).hasRef()).toBe(false);
      // The certificate nothing answers for is due again within five minutes: the next pass is then, not in an hour.
      const wait = await background.scheduledPass();
      expect(wait).toBeGreaterThan(60_000);
      expect(wait).toBeLessThanOrEqual(5 * 60_000);
    } finally {
      setTimer.mockRestore();
      await background.beforeApplicationShutdown();
    }
  });
});

describe('parseFingerprints', () => {
  it('takes SHA-256 fingerprints in hex, with or without colons, and refuses anything else', () => {
    const hex = 'ab'.repeat(32);
    expect(parseFingerprints(undefined)).toBeUndefined();
    expect(parseFingerprints([hex.toUpperCase(), hex.match(/../g)!.join(':')])).toEqual([hex, hex]);
    expect(() => parseFingerprints('ab')).toThrow('fingerprints must be a list');
    expect(() => parseFingerprints(['abc'])).toThrow('"abc" is not a SHA-256 fingerprint');
  });
});

describe('revocation check settings', () => {
  it('default to hourly passes, 8 at a time; 0 minutes turns the background pass off', () => {
    expect(loadServerConfig({}).revocationCheck).toEqual({ intervalMinutes: 60, concurrency: 8, enabled: true });
    const off = loadServerConfig({ CERTFLEET_REVOCATION_CHECK_MINUTES: '0', CERTFLEET_REVOCATION_CHECK_CONCURRENCY: '2' });
    expect(off.revocationCheck).toEqual({ intervalMinutes: 0, concurrency: 2, enabled: false });
    expect(() => loadServerConfig({ CERTFLEET_REVOCATION_CHECK_CONCURRENCY: '0' })).toThrow('CERTFLEET_REVOCATION_CHECK_CONCURRENCY must be an integer between 1 and 256');
    const setTimer = jest.spyOn(global, 'setTimeout');
    try {
      new RevocationStatusService({} as DataSource, off, new RevocationChecker()).onApplicationBootstrap();
      expect(setTimer).not.toHaveBeenCalled();
    } finally {
      setTimer.mockRestore();
    }
  });
});
