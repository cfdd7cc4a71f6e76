// The CT monitor on both databases against a real RFC 6962 log server on loopback (signed tree
// heads, consistency proofs, get-entries with a per-answer cap, and a log that rewrites its
// history), with certificates made by the real openssl, some with SCTs the test log signed.
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import { readCertificateFile } from '@certfleet/pki';
import { OpensslDir } from '../../../../../libs/pki/src/authority/openssl-test-kit';
import { encodeSct, encodeSctListExtension, TestCtLogKey } from '../../../../../libs/pki/src/ct/testing/ct-encoding';
import { SctTestCa } from '../../../../../libs/pki/src/ct/testing/sct-test-ca';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { Agent } from '../agents/agent.entity';
import { InventoryItem } from '../inventory/inventory-item.entity';
import { CtLog } from './ct-log.entity';
import { CtMonitorService } from './ct-monitor.service';
import { matchWatched } from './domain-match';
import { TestCtLogServer } from './testing/ct-log-server';

jest.setTimeout(60_000);

const AGENT = '33333333-3333-4333-8333-333333333333';
const dir = new OpensslDir();
let ca: X509Certificate;
const issue = (name: string, sans: string): X509Certificate => {
  dir.run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`, '-addext', `subjectAltName=${sans}`);
  dir.run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-days', '30', '-copy_extensions', 'copy', '-out', `${name}.pem`);
  return new X509Certificate(dir.read(`${name}.pem`));
};
const fp = (c: X509Certificate) => c.fingerprint256.replace(/:/g, '').toLowerCase();
let certs: Record<'known' | 'unknown' | 'wildcard' | 'otherDomain' | 'precert' | 'knownPrecert' | 'later', X509Certificate>;

beforeAll(() => {
  dir.run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=CT Test CA/O=certfleet tests', '-days', '30');
  ca = new X509Certificate(dir.read('ca.pem'));
  certs = {
    known: issue('known', 'DNS:shop.example.test'),
    unknown: issue('unknown', 'DNS:www.example.test'),
    wildcard: issue('wildcard', 'DNS:*.dev.example.test'),
    otherDomain: issue('other', 'DNS:www.example.org'),
    precert: issue('precert', 'DNS:api.example.test'),
    knownPrecert: issue('known-precert', 'DNS:mail.example.test'),
    later: issue('later', 'DNS:late.example.test'),
  };
});
afterAll(() => dir.remove());

describe('matchWatched', () => {
  it.each([
    ['example.test', 'example.test'],
    ['www.example.test', 'example.test'],
    ['*.example.test', 'example.test'],
    ['WWW.Example.Test.', 'example.test'],
    ['*.other.test', undefined],
    // A wildcard one label above covers the watched name itself.
    ['*.test', 'example.test'],
    ['badexample.test', undefined],
    ['example.org', undefined],
  ])('%s → %s', (name, expected) => expect(matchWatched(name, ['example.test'])).toBe(expected));

  it('a wildcard covers a watched name one label below its base', () => {
    expect(matchWatched('*.example.org', ['www.example.org'])).toBe('www.example.org');
    expect(matchWatched('*.example.org', ['a.b.example.org'])).toBeUndefined();
  });
});

describe.each(['pglite', 'postgresql'] as const)('CtMonitorService on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let log: TestCtLogServer;
  const config = loadServerConfig({ CERTFLEET_CT_POLL_MINUTES: '0', CERTFLEET_CT_BATCH: '2' });

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'ct_monitor'));
    log = await new TestCtLogServer(3).start();
    const spki = ca.publicKey.export({ type: 'spki', format: 'der' });
    for (const c of [certs.known, certs.unknown, certs.otherDomain, certs.wildcard]) log.addCertificate(c.raw, new Date('2026-01-02T03:04:05Z'));
    log.addPrecertificate(certs.precert.raw, spki);
    log.addPrecertificate(certs.knownPrecert.raw, spki);
    // certfleet knows `known` (by fingerprint) and the final certificate of `knownPrecert` (serial + issuer), both from an agent's inventory.
    await ds.getRepository(Agent).insert({ id: AGENT, hostname: 'shop-01', hostFacts: {}, enrolledAt: new Date(), certificateSerial: '03', certificateNotAfter: new Date(Date.now() + 86_400_000) });
    for (const [path, c] of [['/etc/ssl/shop.pem', certs.known], ['/etc/ssl/mail.pem', certs.knownPrecert]] as const) await addToInventory(path, c);
  });

  /** Adds a certificate file to the agent's inventory as discovery reads it; returns its fingerprint. */
  async function addToInventory(path: string, certificate: X509Certificate): Promise<string> {
    const der = Buffer.from(certificate.raw);
    const [found] = readCertificateFile(der, { path, passwords: [] }).certificates;
    await ds.getRepository(InventoryItem).insert({
      agentId: AGENT, itemKey: `${path}|0`, kind: 'certificate', path, entry: '0', fingerprintSha256: found.fingerprintSha256, subject: found.subject, issuer: found.issuer,
      serial: found.serial, notBefore: found.notBefore ?? null, notAfter: found.notAfter ?? null, detail: {}, der, seenSequence: '1', firstSeenAt: new Date(), updatedAt: new Date(),
    });
    return found.fingerprintSha256;
  }
  afterAll(async () => {
    await log?.close();
    await close?.();
  });

  it('flags only unknown certificates for watched domains, x509 and precert entries alike', async () => {
    const service = new CtMonitorService(ds, config);
    await service.watch('Example.Test.');
    const added = await service.addLog({ name: 'loopback log', url: log.url, publicKey: log.key.publicKeyDer.toString('base64') });
    expect(added.logId).toBe(log.key.logId.toString('base64'));
    const [result] = await service.pollNow();
    expect(result).toEqual({ log: 'loopback log', treeSize: 6, read: 6, findings: 3, nextIndex: 6 });
    // Batches of 2 as configured, so the log's cap of 3 never cut an answer short.
    expect(log.requests.filter((r) => r.includes('get-entries'))).toEqual(['/log/ct/v1/get-entries?start=0&end=1', '/log/ct/v1/get-entries?start=2&end=3', '/log/ct/v1/get-entries?start=4&end=5']);
    const findings = await service.findings();
    expect(findings.map((f) => [Number(f.entryIndex), f.kind, f.domain, f.dnsNames]).sort()).toEqual([
      [1, 'x509', 'example.test', ['www.example.test']],
      [3, 'x509', 'example.test', ['*.dev.example.test']],
      [4, 'precert', 'example.test', ['api.example.test']],
    ]);
    const unknown = findings.find((f) => Number(f.entryIndex) === 1)!;
    expect(unknown).toMatchObject({ fingerprintSha256: fp(certs.unknown), issuer: 'CN=CT Test CA, O=certfleet tests', subject: 'CN=unknown', serial: certs.unknown.serialNumber.toLowerCase().replace(/^(00)+/, '') });
    expect(unknown.loggedAt.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(findings.find((f) => Number(f.entryIndex) === 4)).toMatchObject({ fingerprintSha256: null, serial: certs.precert.serialNumber.toLowerCase().replace(/^(00)+/, '') });
  });

  it('continues from the stored index after a restart, reading only new entries', async () => {
    log.requests.length = 0;
    log.addCertificate(certs.later.raw);
    const restarted = new CtMonitorService(ds, config);
    const [result] = await restarted.pollNow();
    expect(result).toMatchObject({ treeSize: 7, read: 1, findings: 1, nextIndex: 7 });
    // The new tree head is proven to extend the one verified before (6 → 7 entries).
    expect(log.requests).toEqual(['/log/ct/v1/get-sth', '/log/ct/v1/get-sth-consistency?first=6&second=7', '/log/ct/v1/get-entries?start=6&end=6']);
    expect((await ds.getRepository(CtLog).findOneByOrFail({ url: log.url })).rootHash).toBe(log.root().toString('base64'));
    expect((await restarted.findings()).map((f) => f.dnsNames[0])).toContain('late.example.test');
    // Nothing new: one get-sth, no entries, no duplicate findings.
    expect(await restarted.pollNow()).toEqual([expect.objectContaining({ read: 0, findings: 0, nextIndex: 7 })]);
    expect(await restarted.findings()).toHaveLength(4);
  });

  it('refuses a tree head that does not verify with the configured key, and moves nothing', async () => {
    const service = new CtMonitorService(ds, config);
    // The same log under another spelling of its address, configured with a key that is not the log's.
    const impostor = await service.addLog({ name: 'wrong key', url: log.url.replace('127.0.0.1', 'localhost'), publicKey: new TestCtLogKey().publicKeyDer.toString('base64') });
    const [result] = await service.pollNow(impostor.id);
    expect(result).toMatchObject({ read: 0, findings: 0, nextIndex: 0, error: 'tree_head_signature does not verify with the configured log key' });
    const stored = await ds.getRepository(CtLog).findOneByOrFail({ id: impostor.id });
    expect([String(stored.nextIndex), String(stored.treeSize), stored.rootHash, stored.lastError]).toEqual(['0', '0', null, 'tree_head_signature does not verify with the configured log key']);
  });

  it('refuses a log that rewrites entries it already showed, at the same size or grown, and moves nothing', async () => {
    const forking = await new TestCtLogServer(3).start();
    try {
      for (const c of [certs.otherDomain, certs.otherDomain, certs.otherDomain]) forking.addCertificate(c.raw);
      const service = new CtMonitorService(ds, config);
      const added = await service.addLog({ name: 'forking log', url: forking.url, publicKey: forking.key.publicKeyDer.toString('base64') });
      expect(await service.pollNow(added.id)).toEqual([expect.objectContaining({ treeSize: 3, read: 3, nextIndex: 3 })]);
      forking.addCertificate(certs.otherDomain.raw);
      expect(await service.pollNow(added.id)).toEqual([expect.objectContaining({ treeSize: 4, read: 1, nextIndex: 4 })]);
      const verified = await ds.getRepository(CtLog).findOneByOrFail({ id: added.id });
      expect(verified.rootHash).toBe(forking.root().toString('base64'));

      // Entry 1 swapped for another certificate: same size, another root.
      forking.rewriteHistory(1, certs.unknown.raw);
      const [sameSize] = await service.pollNow(added.id);
      expect(sameSize.error).toBe(`inconsistent tree head: root ${forking.root().toString('base64')} for 4 entries, but the verified tree of that size has root ${verified.rootHash} (the log rewrote its history); refused`);
      // Grown as well: the log's honest proof over its rewritten tree does not lead to the verified root.
      forking.requests.length = 0;
      forking.addCertificate(certs.unknown.raw);
      const [grown] = await service.pollNow(added.id);
      expect(grown).toEqual({ log: 'forking log', treeSize: 4, read: 0, findings: 0, nextIndex: 4, error: 'inconsistent tree head: the tree of 5 entries is not proven to extend the verified tree of 4 (consistency proof: does not lead to the root of the tree of 5 entries); refused' });
      expect(forking.requests).toEqual(['/log/ct/v1/get-sth', '/log/ct/v1/get-sth-consistency?first=4&second=5']);
      const stored = await ds.getRepository(CtLog).findOneByOrFail({ id: added.id });
      expect([String(stored.treeSize), String(stored.nextIndex), stored.rootHash, stored.lastError]).toEqual(['4', '4', verified.rootHash, grown.error]);
    } finally {
      await forking.close();
    }
  });

  it('names the logs of the SCTs embedded in an inventory certificate (built-in and configured logs)', async () => {
    const argon = Buffer.from('7s3QZNXbGs7FXLedtM0TojKHRny87N7DUUhZRnEftZs=', 'base64');
    const list = encodeSctListExtension([encodeSct(argon, new Date('2026-03-01T00:00:00Z'), Buffer.alloc(8)), encodeSct(log.key.logId, new Date('2026-03-01T00:00:01Z'), Buffer.alloc(8)), encodeSct(Buffer.alloc(32, 9), new Date(0), Buffer.alloc(8))]);
    dir.run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'sct.key', '-out', 'sct.pem', '-subj', '/CN=sct', '-days', '5', '-addext', `1.3.6.1.4.1.11129.2.4.2=DER:${list.toString('hex')}`);
    const fingerprint = await addToInventory('/etc/ssl/sct.pem', new X509Certificate(dir.read('sct.pem')));
    const scts = await new CtMonitorService(ds, config).scts(fingerprint);
    // Self-signed, so its issuer is in the inventory: the made-up signatures are found invalid.
    expect(scts.map((sct) => [sct.logName, sct.logOperator, sct.timestamp.toISOString(), sct.signatureAlgorithm, sct.status])).toEqual([
      ["Google 'Argon2024'", 'Google', '2026-03-01T00:00:00.000Z', 'ecdsa-sha256', 'invalid'],
      ['loopback log', 'configured', '2026-03-01T00:00:01.000Z', 'ecdsa-sha256', 'invalid'],
      [null, null, '1970-01-01T00:00:00.000Z', 'ecdsa-sha256', 'unknown log'],
    ]);
    await expect(new CtMonitorService(ds, config).scts('00'.repeat(32))).rejects.toThrow('no certificate');
  });

  it("verifies embedded SCTs with the issuer's key found in the inventory, by name and signature", async () => {
    // Two CAs with one name: only the one in the inventory, whose key verifies the leaf, counts.
    const inInventory = new SctTestCa('/CN=Shared Name CA/O=certfleet tests');
    const elsewhere = new SctTestCa('/CN=Shared Name CA/O=certfleet tests');
    try {
      const at = new Date(Date.now() - 60_000);
      const leaf = inInventory.issue('logged', 'logged.example.test', (tbs) => [log.key.precertSct(tbs, inInventory.spki, at)]).certificate;
      const stranger = elsewhere.issue('stranger', 'stranger.example.test', (tbs) => [log.key.precertSct(tbs, elsewhere.spki, at)]).certificate;
      const service = new CtMonitorService(ds, config);
      expect((await service.scts(await addToInventory('/etc/ssl/logged.pem', leaf))).map((sct) => [sct.logName, sct.status])).toEqual([['loopback log', 'issuer unknown']]);
      await addToInventory('/etc/ssl/shared-name-ca.pem', new X509Certificate(inInventory.ca.der));
      expect(await service.scts(fp(leaf))).toEqual([{ logId: log.key.logId.toString('base64'), logName: 'loopback log', logOperator: 'configured', timestamp: at, signatureAlgorithm: 'ecdsa-sha256', status: 'valid' }]);
      expect(await service.scts(await addToInventory('/etc/ssl/stranger.pem', stranger))).toEqual([expect.objectContaining({ status: 'issuer unknown', reason: "the issuer's key is needed to rebuild what the log signed" })]);
    } finally {
      inInventory.remove();
      elsewhere.remove();
    }
  });

  it('refuses bad input with a clear error', async () => {
    const service = new CtMonitorService(ds, config);
    await expect(service.watch('not a domain')).rejects.toThrow('not a domain name');
    await expect(service.addLog({ name: 'x', url: 'ftp://log', publicKey: 'AAAA' })).rejects.toThrow('url must be http:// or https://');
    await expect(service.addLog({ name: 'x', url: 'http://127.0.0.1:1/', publicKey: 'AAAA' })).rejects.toThrow('publicKey must be');
    await expect(service.addLog({ name: 'again', url: log.url, publicKey: log.key.publicKeyDer.toString('base64') })).rejects.toThrow('already configured');
    expect((await service.watched()).map((w) => w.domain)).toEqual(['example.test']);
  });
});
