import 'reflect-metadata';
import { readCertificateFile } from '@certfleet/pki';
import { Alert } from './alert.entity';
import { FakeClock } from './clock';
import { addAgent, DAY, openAlerting, OpenAlerting, reportInventory, runDueJob } from './testing/alert-kit';

jest.setTimeout(120_000);

// A managed certificate that is also in the inventory (installed where it was put, and copied by
// hand to another host) is alerted once, as managed: its copies are not discovered certificates of
// their own. A discovered certificate expiring beside it still is.
describe.each(['pglite', 'postgresql'] as const)('expiry of managed certificates on %s', (database) => {
  let { ds, hooks, services, close } = {} as OpenAlerting;
  const t0 = new Date();
  const clock = new FakeClock(t0);
  let shop: { id: string; agentId: string; profile: { dnsNames: string[]; ipAddresses: string[] } };
  let stray: { fullchainPem: string };

  beforeAll(async () => {
    ({ ds, hooks, services, close } = await openAlerting(database, 'alert-managed-expiry', clock));
    await services.cas.quickStart('lab', 'test');
    const web = await addAgent(ds, 'web-01', {}, new Date(Date.now() + 400 * DAY));
    const backup = await addAgent(ds, 'backup-01', {}, new Date(Date.now() + 400 * DAY));
    const target = (name: string) => [{ kind: 'fullchain-pem' as const, path: `/srv/${name}/fullchain.pem`, keyPath: `/srv/${name}/key.pem` }];
    const profile = (name: string) => ({ dnsNames: [`${name}.example.test`], ipAddresses: [], validityDays: 90 });
    shop = await services.managed.create({ name: 'shop', agentId: web, issuer: 'lab', profile: profile('shop'), targets: target('shop') }, 'test');
    const { fullchainPem } = await runDueJob(services, ds, shop, new Date());
    // The same certificate, as discovered on both hosts.
    await reportInventory(services.inventory, ds, web, { install: [{ path: '/srv/shop/fullchain.pem', content: fullchainPem! }] });
    await reportInventory(services.inventory, ds, backup, { install: [{ path: '/backup/shop.pem', content: fullchainPem! }] });
    // A certificate certfleet does not manage, issued the same day by the same CA for a second
    // managed certificate that was removed since: discovered only.
    const old = await services.managed.create({ name: 'old', agentId: web, issuer: 'lab', profile: profile('old'), targets: target('old') }, 'test');
    stray = { fullchainPem: (await runDueJob(services, ds, old, new Date())).fullchainPem! };
    await services.managed.remove(old.id, 'test');
    await reportInventory(services.inventory, ds, backup, { install: [{ path: '/backup/old.pem', content: stray.fullchainPem }] });
  });
  afterAll(async () => {
    await close?.();
  });

  const leafFingerprint = (pem: string) => readCertificateFile(Buffer.from(pem), { path: 'x.pem', passwords: [] }).certificates[0].fingerprintSha256;

  it('raises one managed expiry alert, none for its inventory copies, and one for the discovered certificate', async () => {
    expect(await hooks.pass()).toEqual({ team: [], oncall: [] });
    clock.set(new Date(t0.getTime() + 85 * DAY)); // 5 days left: the 7-day (critical) stage
    // (The agents' reports stamped the real time, so at this clock they are also offline: not this test's concern.)
    const { team } = await hooks.pass();
    expect(team.filter((e) => e.includes(':expiry:')).sort()).toEqual([`raised:expiry:fp:${leafFingerprint(stray.fullchainPem)}:7d`, `raised:expiry:managed:${shop.id}:7d`].sort());
    const expiry = await ds.getRepository(Alert).find({ where: { kind: 'expiry' } });
    expect(expiry.map((a) => a.subjectKey).sort()).toEqual([`fp:${leafFingerprint(stray.fullchainPem)}`, `managed:${shop.id}`].sort());
    expect(expiry.find((a) => a.subjectKey === `managed:${shop.id}`)!.title).toMatch(/^managed certificate shop on web-01 expires on \d{4}-\d{2}-\d{2}$/);
  });
});
