import 'reflect-metadata';
import { CertificateJob } from '../jobs/certificate-job.entity';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { Alert } from './alert.entity';
import { FakeClock } from './clock';
import { addAgent, DAY, openAlerting, OpenAlerting, runDueJob } from './testing/alert-kit';

jest.setTimeout(120_000);

// Not the default (3): the setting is what decides.
const N = 4;

// Renewals failing N times in a row (CERTFLEET_RENEWAL_FAILURES), end to end: a managed certificate
// issued by a lab CA through the jobs service, renewals the agent reports as failed, then one that
// succeeds; the real evaluation pass and delivery worker, webhooks to loopback receivers.
describe.each(['pglite', 'postgresql'] as const)('renewal-failing alerts on %s', (database) => {
  let { ds, kit, hooks, services, close } = {} as OpenAlerting;
  const clock = new FakeClock(new Date());
  let shop: { id: string; agentId: string; profile: { dnsNames: string[]; ipAddresses: string[] } };
  const installFailed = { stage: 'install', error: 'open /srv/shop/fullchain.pem: permission denied' };

  beforeAll(async () => {
    ({ ds, kit, hooks, services, close } = await openAlerting(database, 'alert-renewal', clock, { CERTFLEET_RENEWAL_FAILURES: String(N) }));
    await services.cas.quickStart('lab', 'test');
    // Seen "in the future" of the clock: agent-offline stays out of this flow.
    const agentId = await addAgent(ds, 'web-01', { env: 'prod' }, new Date(Date.now() + 100 * DAY));
    const profile = { dnsNames: ['shop.example.test'], ipAddresses: [], validityDays: 90 };
    shop = await services.managed.create({ name: 'shop', agentId, issuer: 'lab', profile, targets: [{ kind: 'fullchain-pem', path: '/srv/shop/fullchain.pem', keyPath: '/srv/shop/key.pem' }] }, 'test');
    // The first issuance goes through: the certificate is active, 90 days to go.
    await runDueJob(services, ds, shop, new Date());
  });
  afterAll(async () => {
    await close?.();
  });

  const row = () => ds.getRepository(ManagedCertificate).findOneByOrFail({ id: shop.id });
  /** The next attempt, when the scheduler would make it: at the retry time the last failure set. */
  const nextAttempt = async (failed?: typeof installFailed) => runDueJob(services, ds, shop, (await row()).nextRenewalAt!, failed);
  const raised = () => `raised:renewal-failing:managed:${shop.id}:failing`;
  const alertOf = () => ds.getRepository(Alert).findOneByOrFail({ kind: 'renewal-failing', subjectKey: `managed:${shop.id}` });
  const quiet = { team: [], oncall: [] };

  it(`raises nothing for ${N - 1} failed renewals in a row, raises at the ${N}th, once, to the team only`, async () => {
    expect(await row()).toMatchObject({ status: 'active', failureCount: 0 });
    expect(await hooks.pass()).toEqual(quiet);
    await services.managed.renewNow(shop.id, 'test');
    for (let failures = 1; failures < N; failures++) {
      await nextAttempt(installFailed);
      expect(await row()).toMatchObject({ failureCount: failures, status: 'active' });
      expect(await hooks.pass()).toEqual(quiet);
    }
    await nextAttempt(installFailed);
    // The product shows it as failing at the same count.
    expect(await row()).toMatchObject({ failureCount: N, status: 'failing' });
    expect(await hooks.pass()).toEqual({ team: [raised()], oncall: [] });
    expect(await hooks.pass()).toEqual(quiet);
    const alert = await alertOf();
    expect(alert).toMatchObject({ state: 'open', severity: 'warning', stageLabel: 'failing', title: `renewal of shop failed ${N} times in a row` });
    expect(alert.detail).toEqual({ managedCertificateId: shop.id, failures: N, lastError: `install: ${installFailed.error}` });
    const jobs = await ds.getRepository(CertificateJob).find({ where: { managedCertificateId: shop.id }, order: { createdAt: 'ASC' } });
    expect(jobs.map((j) => j.state)).toEqual(['succeeded', ...Array(N).fill('failed')]);
  });

  it('sends nothing more while it keeps failing (the count in the title follows)', async () => {
    await nextAttempt({ stage: 'validate', error: 'the endpoint still serves the old certificate' });
    expect(await hooks.pass()).toEqual(quiet);
    expect(await alertOf()).toMatchObject({ state: 'open', notifiedStage: 1, title: `renewal of shop failed ${N + 1} times in a row` });
    expect(hooks.team.received.filter((r) => r.body.kind === 'renewal-failing').map((r) => r.body.event)).toEqual(['raised']);
  });

  it('resolves when a renewal succeeds, and tells the team', async () => {
    const { fullchainPem } = await nextAttempt();
    expect(fullchainPem).toContain('BEGIN CERTIFICATE');
    expect(await row()).toMatchObject({ status: 'active', failureCount: 0, lastError: null });
    expect(await hooks.pass()).toEqual({ team: [`resolved:renewal-failing:managed:${shop.id}:failing`], oncall: [] });
    const alert = await alertOf();
    expect(alert.state).toBe('resolved');
    expect(alert.resolvedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(await hooks.pass()).toEqual(quiet);
    expect(hooks.oncall.received).toEqual([]);
    expect(hooks.team.rejected).toEqual([]);
  });
});
