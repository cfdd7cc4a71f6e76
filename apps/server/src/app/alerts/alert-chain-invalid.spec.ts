import 'reflect-metadata';
import { createRootCa, signIntermediate } from '@certfleet/pki';
import { BreakglassCampaign } from '../breakglass/breakglass-campaign.entity';
import { BreakglassService } from '../breakglass/breakglass.service';
import { CampaignWorker } from '../breakglass/campaign-worker';
import { RenewalScheduler } from '../jobs/renewal-scheduler';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { Alert } from './alert.entity';
import { FakeClock } from './clock';
import { addAgent, DAY, openAlerting, OpenAlerting, runDueJob } from './testing/alert-kit';

jest.setTimeout(120_000);

const MINUTE = 60_000;

// Managed certificates whose chain no longer validates because the CA that issued them was revoked
// (a break-glass rotation) or expired, end to end: lab CAs, certificates issued through the jobs
// service, the break-glass service rotating the CA; the real evaluation pass and delivery worker,
// webhooks to loopback receivers. Critical: the escalation channel hears it too.
describe.each(['pglite', 'postgresql'] as const)('chain-invalid alerts on %s', (database) => {
  let { ds, kit, hooks, services, close } = {} as OpenAlerting;
  const clock = new FakeClock(new Date());
  let breakglass: BreakglassService;
  let worker: CampaignWorker;
  let scheduler: RenewalScheduler;
  let agentId: string;
  type Managed = Awaited<ReturnType<typeof services.managed.create>>;
  let shop: Managed;
  let intranet: Managed;

  beforeAll(async () => {
    ({ ds, kit, hooks, services, close } = await openAlerting(database, 'alert-chain', clock));
    breakglass = new BreakglassService(kit.config, ds, services.cas, services.revocations, services.audit);
    scheduler = new RenewalScheduler(kit.config, services.jobs);
    worker = new CampaignWorker(ds, breakglass, scheduler, services.audit);
    // Lab CAs: their roots' keys are in the data directory, so a rotation signs the replacement at once.
    await services.cas.quickStart('shop-ca', 'test');
    await services.cas.quickStart('corp-ca', 'test');
    agentId = await addAgent(ds, 'web-01', { env: 'prod' }, new Date(Date.now() + 100 * DAY));
    shop = await manage('shop', 'shop-ca');
    intranet = await manage('intranet', 'corp-ca');
  });
  afterAll(async () => {
    worker?.onApplicationShutdown();
    scheduler?.onApplicationShutdown();
    await close?.();
  });

  /** A managed certificate from `issuer`, issued through a job the agent completes. */
  async function manage(name: string, issuer: string): Promise<Managed> {
    const mc = await services.managed.create(
      { name, agentId, issuer, profile: { dnsNames: [`${name}.example.test`], ipAddresses: [], validityDays: 90 }, targets: [{ kind: 'fullchain-pem', path: `/srv/${name}/fullchain.pem`, keyPath: `/srv/${name}/key.pem` }] },
      'test',
    );
    await runDueJob(services, ds, mc, new Date());
    return mc;
  }
  const issuerOfCurrent = async (mc: Managed) => {
    const { currentSerial } = await ds.getRepository(ManagedCertificate).findOneByOrFail({ id: mc.id });
    const { issuingCaId } = await ds.getRepository(IssuedCertificate).findOneByOrFail({ serial: currentSerial! });
    return (await ds.getRepository(IssuingCa).findOneByOrFail({ id: issuingCaId })).name;
  };
  const event = (what: 'raised' | 'resolved', mc: Managed) => `${what}:chain-invalid:managed:${mc.id}:invalid`;
  const alertOf = (mc: Managed) => ds.getRepository(Alert).findOneByOrFail({ kind: 'chain-invalid', subjectKey: `managed:${mc.id}` });
  /** A pass, keeping only chain-invalid notifications (expiry has its own spec). */
  const chainPass = async () => {
    const got = await hooks.pass();
    const only = (xs: string[]) => xs.filter((x) => x.includes(':chain-invalid:'));
    return { team: only(got.team), oncall: only(got.oncall) };
  };
  const quiet = { team: [], oncall: [] };

  it('raises when the CA that issued the installed certificate is revoked by a break-glass rotation, once, to team and on-call', async () => {
    expect(await hooks.pass()).toEqual(quiet);
    const campaign = await breakglass.run({ issuer: 'shop-ca' }, { confirm: true }, 'test');
    expect(campaign.status).toBe('running');
    await worker.tick(); // opens the replacement of the managed holder
    expect((await ds.getRepository(IssuingCa).findOneByOrFail({ name: 'shop-ca' })).status).toBe('revoked');
    // The certificate on the host is still the one the revoked CA signed.
    expect(await issuerOfCurrent(shop)).toBe('shop-ca');

    expect(await hooks.pass()).toEqual({ team: [event('raised', shop)], oncall: [event('raised', shop)] });
    expect(await hooks.pass()).toEqual(quiet);
    const alert = await alertOf(shop);
    expect(alert).toMatchObject({ state: 'open', severity: 'critical', stageLabel: 'invalid', title: 'chain of shop no longer validates: issuing CA shop-ca is revoked' });
    expect(alert.detail).toMatchObject({ managedCertificateId: shop.id, issuingCa: 'shop-ca' });
    expect(alert.detail.caRevokedAt).toEqual(expect.any(String));
  });

  it('resolves when the certificate is reissued from the replacement CA, and tells those told', async () => {
    await runDueJob(services, ds, shop, new Date());
    expect(await issuerOfCurrent(shop)).toBe('shop-ca-r1');
    await worker.tick();
    expect((await ds.getRepository(BreakglassCampaign).findOneByOrFail({ replacementCaId: (await ds.getRepository(IssuingCa).findOneByOrFail({ name: 'shop-ca-r1' })).id })).status).toBe('completed');
    expect(await hooks.pass()).toEqual({ team: [event('resolved', shop)], oncall: [event('resolved', shop)] });
    const alert = await alertOf(shop);
    expect(alert.state).toBe('resolved');
    expect(alert.resolvedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(await hooks.pass()).toEqual(quiet);
  });

  it('raises when the issuing CA expires (not a minute before), and resolves only once a new CA reissued the certificate', async () => {
    // An issuing CA signed for 20 days by a root kept offline; its certificates end with it.
    const root = await createRootCa({ commonName: 'Legacy Root' });
    const pending = await services.cas.create('legacy-ca', 'P-256', 'test');
    await services.cas.importCertificate(pending.id, await signIntermediate(root, pending.csrPem!, { validityDays: 20 }), root.certificatePem, 'test');
    const legacy = await manage('legacy-app', 'legacy-ca');
    const caNotAfter = (await ds.getRepository(IssuingCa).findOneByOrFail({ name: 'legacy-ca' })).notAfter!;

    clock.set(new Date(caNotAfter.getTime() - MINUTE));
    expect(await chainPass()).toEqual(quiet);
    clock.set(new Date(caNotAfter.getTime() + MINUTE));
    expect(await chainPass()).toEqual({ team: [event('raised', legacy)], oncall: [event('raised', legacy)] });
    expect(await alertOf(legacy)).toMatchObject({ state: 'open', severity: 'critical', title: 'chain of legacy-app no longer validates: issuing CA legacy-ca is expired' });
    expect(await chainPass()).toEqual(quiet);

    // The CA is rotated: the replacement waits for the offline root, which signs it; the campaign
    // starts. Until the certificate on the host is reissued its chain is still broken.
    const campaign = await breakglass.run({ issuer: 'legacy-ca' }, { confirm: true, reason: 'superseded' }, 'test');
    const replacement = await ds.getRepository(IssuingCa).findOneByOrFail({ id: campaign.replacementCaId! });
    await services.cas.importCertificate(replacement.id, await signIntermediate(root, replacement.csrPem), root.certificatePem, 'test');
    await worker.tick(); // starts the campaign now the replacement can sign, and opens the replacement
    expect((await ds.getRepository(IssuingCa).findOneByOrFail({ name: 'legacy-ca' })).status).toBe('revoked');
    expect(await chainPass()).toEqual(quiet);
    expect((await alertOf(legacy)).state).toBe('open');

    await runDueJob(services, ds, legacy, new Date());
    expect(await issuerOfCurrent(legacy)).toBe(replacement.name);
    expect(await chainPass()).toEqual({ team: [event('resolved', legacy)], oncall: [event('resolved', legacy)] });
    expect((await alertOf(legacy)).state).toBe('resolved');
    // The certificate of the healthy CA never raised anything.
    expect(await ds.getRepository(Alert).countBy({ subjectKey: `managed:${intranet.id}` })).toBe(0);
    expect(hooks.team.rejected).toEqual([]);
  });
});
