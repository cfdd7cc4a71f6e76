import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../alerts/clock';
import { openAlerting, OpenAlerting } from '../alerts/testing/alert-kit';
import { BreakglassService } from '../breakglass/breakglass.service';
import { campaignProgress } from '../breakglass/campaign-progress';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import { loadServerConfig } from '../../config/server-config';
import { AcmeAccount } from './acme-account.entity';
import { AcmeAccountsService } from './acme-accounts.service';
import { AcmeOrder } from './acme-order.entity';
import { AcmeOrdersService } from './acme-orders.service';
import { AcmeDirectory, AcmeRequestVerifier, type AuthenticatedRequest } from './acme-request';
import { signJws, testKey } from './jws-test-kit';
import { accountRequest, issueThroughAcme } from './order-test-kit';
import { jwkThumbprint } from './jws';
import { NonceStore } from './nonce-store';
import { AcmeRenewalInfoService } from './renewal-info.service';
import { certIdOf } from './renewal-info';

jest.setTimeout(180_000);

const BASE = 'http://127.0.0.1:9/acme/lab';
const work = mkdtempSync(join(tmpdir(), 'cf-acme-succession-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A break-glass campaign over a CA with an ACME directory: the directory keeps its URL and its
// accounts, issues from the replacement, tells clients through ARI to renew now, and the campaign
// counts the ACME clients that renewed. Orders go through the real services; their challenges count
// as passed (validated for real in acme-orders.service.spec and e2e/acme-server).
describe.each(['pglite', 'postgresql'] as const)('an ACME directory after a break-glass replacement of its CA on %s', (database) => {
  let { ds, kit, services, close } = {} as OpenAlerting;
  let orders: AcmeOrdersService;
  let accounts: AcmeAccountsService;
  let breakglass: BreakglassService;
  let lab: IssuingCa;
  let account: AcmeAccount;
  const key = testKey();

  const directory = async (ref: string) => new AcmeDirectory(await services.cas.findSuccession(ref), BASE);
  const req = (payload: Record<string, unknown> | null) => accountRequest(account, payload);
  const issue = (dir: AcmeDirectory, names: string[]) => issueThroughAcme(ds, orders, dir, account, names, work);

  beforeAll(async () => {
    ({ ds, kit, services, close } = await openAlerting(database, 'acme-succession', new FakeClock(new Date())));
    lab = await services.cas.find((await services.cas.quickStart('lab', 'test')).id);
    const config = loadServerConfig({ CERTFLEET_DATA_DIR: kit.config.dataDir, CERTFLEET_ACME_EAB_REQUIRED: 'lab' });
    orders = new AcmeOrdersService(kit.config, ds, services.cas, services.managed, services.audit);
    const sealer = new FleetCaService(config, ds);
    await sealer.onModuleInit();
    accounts = new AcmeAccountsService(config, ds, sealer, services.cas, services.audit);
    breakglass = new BreakglassService(kit.config, ds, services.cas, services.revocations, services.audit);
    account = await ds.getRepository(AcmeAccount).save({ issuingCaId: lab.id, keyThumbprint: jwkThumbprint(key.jwk), jwk: key.jwk, status: 'valid', contact: [], eabKeyId: null });
  });
  afterAll(async () => {
    await orders?.onModuleDestroy();
    await close?.();
  });

  it('keeps the URL and the account, issues from the replacement, says "renew now" and counts the clients that did', async () => {
    const before = await directory('lab');
    const www = await issue(before, ['www.acme.test']);
    const api = await issue(before, ['api.acme.test', 'app.acme.test']);

    const plan = await breakglass.plan({ issuer: 'lab' });
    expect(plan.acme).toEqual([
      { serial: www.serial, identifiers: ['www.acme.test'], acmeAccountId: account.id, acmeOrderId: www.orderId },
      { serial: api.serial, identifiers: ['api.acme.test', 'app.acme.test'], acmeAccountId: account.id, acmeOrderId: api.orderId },
    ]);
    const campaign = await breakglass.run({ issuer: 'lab' }, { confirm: true }, 'test');
    const replacement = await ds.getRepository(IssuingCa).findOneByOrFail({ id: campaign.replacementCaId! });
    expect(await ds.getRepository(IssuingCa).findOneByOrFail({ id: lab.id })).toMatchObject({ status: 'revoked', supersededById: replacement.id });

    // The directory at the old name (and at the new one) now stands for both CAs and issues from the new one.
    const dir = await directory('lab');
    expect(dir.succession.map((c) => c.name)).toEqual(['lab', replacement.name]);
    expect(dir.ca.id).toBe(replacement.id);
    expect((await directory(replacement.name)).caIds).toEqual(dir.caIds);
    expect(accounts.eabRequired(dir)).toBe(true);

    // The client's existing account signs in as before (kid under the same URL), and its key finds it.
    const nonces = new NonceStore(ds);
    const url = `${BASE}/new-order`;
    const signed = signJws(key, { url, nonce: await nonces.issue(), kid: `${BASE}/acct/${account.id}` }, {});
    expect((await new AcmeRequestVerifier(ds, nonces).verify(dir, url, Buffer.from(JSON.stringify(signed)), 'kid')).account?.id).toBe(account.id);
    const again = await accounts.newAccount(dir, { jws: {} as AuthenticatedRequest['jws'], payload: { onlyReturnExisting: true }, account: null, jwk: key.jwk });
    expect(again.headers!.Location).toBe(`${BASE}/acct/${account.id}`);

    // ARI: the revoked certificate's window is already over, so the client renews at once.
    const ari = await new AcmeRenewalInfoService(ds).renewalInfo(dir, certIdOf(www.pem)!);
    const window = (ari.body as { suggestedWindow: { start: string; end: string } }).suggestedWindow;
    expect(new Date(window.end).getTime()).toBeLessThan(Date.now());
    // Its old certificate can still be downloaded at the directory.
    expect(await orders.certificate(dir, www.serial, req(null))).toContain(www.pem.split('\n')[1]);

    const renewed = await issue(dir, ['www.acme.test']);
    const leaf = new X509Certificate(renewed.pem);
    expect(leaf.checkIssued(new X509Certificate(replacement.certificatePem!))).toBe(true);
    expect(leaf.verify(new X509Certificate(replacement.certificatePem!).publicKey)).toBe(true);
    expect((await ds.getRepository(AcmeOrder).findOneByOrFail({ id: renewed.orderId })).issuingCaId).toBe(replacement.id);
    const [old] = await ds.query(`SELECT replaced_by_serial FROM acme_order_certificates WHERE order_id = $1`, [www.orderId]);
    expect(old.replaced_by_serial).toBe(renewed.serial);

    const progress = await campaignProgress(ds, campaign.id, false);
    expect(progress.acmeClients).toEqual({ total: 2, renewed: 1, waiting: [{ serial: api.serial, identifiers: ['api.acme.test', 'app.acme.test'], acmeAccountId: account.id }] });
    // What the replacement issued through ACME is what a campaign over it would revoke next.
    expect((await breakglass.plan({ issuer: replacement.name })).acme.map((c) => c.serial)).toEqual([renewed.serial]);

    // A second compromise: the directory follows the whole line, from any of its names.
    const second = await breakglass.run({ issuer: replacement.name }, { confirm: true }, 'test');
    const third = await ds.getRepository(IssuingCa).findOneByOrFail({ id: second.replacementCaId! });
    for (const ref of ['lab', replacement.name, third.id]) expect((await directory(ref)).succession.map((c) => c.name)).toEqual(['lab', replacement.name, third.name]);
    expect((await issue(await directory('lab'), ['www.acme.test'])).pem).toContain('BEGIN CERTIFICATE');
    expect((await ds.query(`SELECT issuing_ca_id FROM acme_orders ORDER BY created_at DESC LIMIT 1`))[0].issuing_ca_id).toBe(third.id);
  });
});
