import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readCertificateFile } from '@certfleet/pki';
import { FakeClock } from '../alerts/clock';
import { addAgent, DAY, openAlerting, OpenAlerting, reportInventory } from '../alerts/testing/alert-kit';
import { InventoryQueryService } from '../inventory/inventory-query.service';
import { PolicyService } from '../policy/policy.service';
import { ReportSources } from '../reports/report-sources';
import { writeReport } from '../reports/report-writer';
import { AcmeAccount } from './acme-account.entity';
import { AcmeOrder } from './acme-order.entity';
import { AcmeOrdersService } from './acme-orders.service';
import { AcmeDirectory } from './acme-request';
import { testKey } from './jws-test-kit';
import { jwkThumbprint } from './jws';
import { recordMissingOrderCertificates } from './order-certificates';
import { issueThroughAcme, type IssuedByAcme } from './order-test-kit';

jest.setTimeout(180_000);

const work = mkdtempSync(join(tmpdir(), 'cf-acme-inventory-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Issued = IssuedByAcme;

// Certificates issued by the ACME server are in the inventory like discovered ones, located at their
// ACME order: listed, reported, alerted on and checked by policy, until a renewal replaces them, they
// are revoked, or a month after they expired; while a host reports one, the host's row stands for it.
// Orders go through the real service and CA; their challenges count as passed (they are validated
// for real in acme-orders.service.spec and by certbot and lego in e2e/acme-server).
describe.each(['pglite', 'postgresql'] as const)('ACME-issued certificates in the inventory on %s', (database) => {
  let { ds, kit, hooks, services, close } = {} as OpenAlerting;
  const clock = new FakeClock(new Date());
  let orders: AcmeOrdersService;
  let inventory: InventoryQueryService;
  let dir: AcmeDirectory;
  let account: AcmeAccount;

  const issue = (names: string[], replaces?: Issued) => issueThroughAcme(ds, orders, dir, account, names, work, replaces);
  const listed = async (filter: Parameters<InventoryQueryService['certificates']>[0] = {}) => (await inventory.certificates(filter, clock.now())).items;
  const fingerprints = async () => (await listed()).map((c) => c.fingerprintSha256).sort();

  beforeAll(async () => {
    ({ ds, kit, hooks, services, close } = await openAlerting(database, 'acme-inventory', clock));
    const ca = await services.cas.quickStart('lab', 'test');
    orders = new AcmeOrdersService(kit.config, ds, services.cas, services.managed, services.audit);
    inventory = new InventoryQueryService(ds, kit.config);
    dir = new AcmeDirectory([await services.cas.find(ca.id)], 'http://127.0.0.1:9/acme/lab');
    const key = testKey();
    account = await ds.getRepository(AcmeAccount).save({ issuingCaId: ca.id, keyThumbprint: jwkThumbprint(key.jwk), jwk: key.jwk, status: 'valid', contact: [], eabKeyId: null });
  });
  afterAll(async () => {
    await orders?.onModuleDestroy();
    await close?.();
  });
  afterEach(async () => {
    await ds.query(`DELETE FROM acme_order_certificates`);
    await ds.query(`DELETE FROM inventory_items`);
  });

  it('lists an issued certificate at its ACME order, described as discovery describes the downloaded file', async () => {
    const www = await issue(['www.acme.test', 'api.acme.test']);
    const [row] = await listed({ agent: 'acme:lab' });
    const [onDisk] = readCertificateFile(Buffer.from(www.pem), { path: 'fullchain.pem', passwords: [] }).certificates;
    expect(row).toMatchObject({
      source: 'acme',
      agentId: null,
      hostname: 'acme:lab',
      path: `/acme/lab/order/${www.orderId}`,
      fingerprintSha256: www.fingerprint,
      serial: www.serial,
      subject: onDisk.subject,
      issuer: onDisk.issuer,
      status: 'OK',
      revocation: null,
    });
    expect(row.notAfter.toISOString()).toBe(onDisk.notAfter!.toISOString());
    expect(row.detail).toMatchObject({
      dnsNames: onDisk.dnsNames,
      keyAlgorithm: 'EC',
      keyCurve: 'P-256',
      signatureAlgorithm: onDisk.signatureAlgorithm,
      isCa: false,
      selfSigned: false,
      chainLength: onDisk.chainLength,
      acmeOrderId: www.orderId,
      acmeAccountId: account.id,
    });
    expect(await fingerprints()).toEqual([www.fingerprint]);
    expect((await inventory.certificates({ issuer: 'lab' })).total).toBe(1);
  });

  it('drops a certificate when a renewal for the same names, or one naming it in "replaces", is issued', async () => {
    const first = await issue(['www.acme.test']);
    const other = await issue(['other.acme.test']);
    const renewed = await issue(['www.acme.test']);
    expect(await fingerprints()).toEqual([other.fingerprint, renewed.fingerprint].sort());
    const [replaced] = await ds.query(`SELECT replaced_by_serial FROM acme_order_certificates WHERE order_id = $1`, [first.orderId]);
    expect(replaced.replaced_by_serial).toBe(renewed.serial);

    // ARI (RFC 9773): a renewal with other names says which certificate it replaces.
    const merged = await issue(['other.acme.test', 'more.acme.test'], other);
    expect(await fingerprints()).toEqual([renewed.fingerprint, merged.fingerprint].sort());
    expect((await ds.getRepository(AcmeOrder).findOneByOrFail({ id: merged.orderId })).replacesSerial).toBe(other.serial);
  });

  it('lists the host instead while an agent reports the same certificate, and the ACME order again once it is gone', async () => {
    const www = await issue(['www.acme.test']);
    const web = await addAgent(ds, `web-${database}`);
    const file = { path: '/etc/letsencrypt/live/www/fullchain.pem', content: www.pem };
    await reportInventory(services.inventory, ds, web, { install: [file] });
    const onHost = (await listed()).filter((c) => c.fingerprintSha256 === www.fingerprint);
    expect(onHost.map((c) => [c.source, c.hostname, c.path])).toEqual([['agent', `web-${database}`, file.path]]);
    await reportInventory(services.inventory, ds, web, { remove: [file] });
    expect((await listed()).filter((c) => c.fingerprintSha256 === www.fingerprint).map((c) => c.source)).toEqual(['acme']);
  });

  it('drops a revoked certificate, and an expired one after 30 days', async () => {
    const revoked = await issue(['gone.acme.test']);
    const expired = await issue(['old.acme.test']);
    await services.revocations.revoke(revoked.serial, 'keyCompromise', 'test');
    expect(await fingerprints()).toEqual([expired.fingerprint]);

    // The clock of the database decides: the certificate's end is moved instead.
    await ds.query(`UPDATE acme_order_certificates SET not_after = now() - interval '29 days' WHERE order_id = $1`, [expired.orderId]);
    expect((await listed()).map((c) => c.status)).toEqual(['EXPIRED']);
    await ds.query(`UPDATE acme_order_certificates SET not_after = now() - interval '31 days' WHERE order_id = $1`, [expired.orderId]);
    expect(await listed()).toEqual([]);
  });

  it('is alerted on before it expires, reported and checked by policy; a revoked one does not count as installed', async () => {
    const api = await issue(['api.acme.test']);
    const [row] = await listed();
    clock.set(new Date(row.notAfter.getTime() - 3 * DAY));
    try {
      const heard = await hooks.pass();
      expect(heard.team).toContain(`raised:expiry:fp:${api.fingerprint}:7d`);
      const [alert] = await ds.query(`SELECT detail FROM alerts WHERE subject_key = $1`, [`fp:${api.fingerprint}`]);
      expect(alert.detail.locations).toEqual([{ hostname: 'acme:lab', path: `/acme/lab/order/${api.orderId}` }]);
    } finally {
      clock.set(new Date());
    }

    const report = async (kind: 'inventory' | 'violations') => {
      const chunks: string[] = [];
      const out = new Writable({ write: (c, _e, done) => (chunks.push(String(c)), done()) });
      await writeReport(await new ReportSources(ds, kit.config.expiry).source(kind, {}), 'json', out);
      return JSON.parse(chunks.join('')) as unknown[];
    };
    expect(await report('inventory')).toEqual([expect.objectContaining({ host: 'acme:lab', path: `/acme/lab/order/${api.orderId}`, fingerprint_sha256: api.fingerprint, key_algorithm: 'EC' })]);

    const policy = new PolicyService(ds, kit.config, services.audit);
    await policy.set({ name: 'short', rules: [{ id: 'short-lived', type: 'max-validity', days: 7, severity: 'warning' }] }, 'test');
    const { items } = await policy.findings({ fingerprint: api.fingerprint });
    expect(items.map((f) => [f.ruleId, f.subject])).toEqual([['short-lived', 'CN=api.acme.test']]);
    expect(await report('violations')).toEqual([expect.objectContaining({ host: 'acme:lab', fingerprint_sha256: api.fingerprint, rule: 'short-lived' })]);

    await services.revocations.revoke(api.serial, 'superseded', 'test');
    const [{ installed }] = await ds.query(`SELECT count(*)::int AS installed FROM alerts WHERE kind = 'revoked-installed'`);
    await hooks.pass();
    expect((await ds.query(`SELECT count(*)::int AS n FROM alerts WHERE kind = 'revoked-installed'`))[0].n).toBe(installed);
  });

  it('loses its policy findings at the next background pass once it is revoked', async () => {
    const weak = await issue(['weak.acme.test']);
    const policy = new PolicyService(ds, { ...kit.config, policyPassSeconds: 1 }, services.audit);
    await policy.set({ name: 'short', rules: [{ id: 'short-lived', type: 'max-validity', days: 7, severity: 'warning' }] }, 'test');
    const seenAt = async () => ((await ds.query(`SELECT last_seen_at FROM policy_findings WHERE fingerprint_sha256 = $1`, [weak.fingerprint]))[0]?.last_seen_at as Date | undefined)?.getTime();
    const until = async (what: string, done: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 30_000; !(await done()); await new Promise((r) => setTimeout(r, 100))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      }
    };
    const afterSet = await seenAt();
    expect(afterSet).toBeDefined();
    policy.onApplicationBootstrap();
    try {
      // The first background pass runs whatever changed; the revocation must bring the next one.
      await until('the first background pass', async () => ((await seenAt()) ?? 0) > afterSet!);
      await services.revocations.revoke(weak.serial, 'superseded', 'test');
      await until('the finding is dropped', async () => (await seenAt()) === undefined);
    } finally {
      policy.beforeApplicationShutdown();
    }
  });

  it('records, once, the certificates of orders finalized before they were kept for the inventory', async () => {
    const early = await issue(['early.acme.test']);
    const renewal = await issue(['early.acme.test']);
    await ds.query(`DELETE FROM acme_order_certificates`);
    const [{ valid }] = await ds.query(`SELECT count(*)::int AS valid FROM acme_orders WHERE status = 'valid'`);
    expect(await recordMissingOrderCertificates(ds, (id, err) => { throw new Error(`${id}: ${err.message}`); }, 2)).toBe(valid);
    expect(await recordMissingOrderCertificates(ds, () => undefined)).toBe(0);
    const shown = await fingerprints();
    expect(shown).toContain(renewal.fingerprint);
    expect(shown).not.toContain(early.fingerprint);
    expect((await ds.query(`SELECT count(*)::int AS n FROM acme_order_certificates WHERE order_id = $1 AND replaced_by_serial = $2`, [early.orderId, renewal.serial]))[0].n).toBe(1);
  });
});
