import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { openTestDataSource } from '../../database/test-database';
import { InventoryItem } from '../inventory/inventory-item.entity';
import { NotificationDelivery } from '../notifications/notification-delivery.entity';
import { Alert } from './alert.entity';
import { FakeClock } from './clock';
import { addAgent, addCertificate, alerting, DAY, webhookReceiver } from './testing/alert-kit';

jest.setTimeout(90_000);

const KEY = 'flow-test-hmac-key-0123456789';

// Expiry alerts end to end with a fake clock: the real evaluation pass and delivery worker on the
// database, notifications sent to real HTTP receivers on loopback that verify the HMAC.
describe.each(['pglite', 'postgresql'] as const)('alert flow on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  const t0 = new Date('2027-03-01T12:00:00Z');
  const clock = new FakeClock(t0);
  let kit: ReturnType<typeof alerting>;
  let team: Awaited<ReturnType<typeof webhookReceiver>>;
  let oncall: Awaited<ReturnType<typeof webhookReceiver>>;
  let owner: Awaited<ReturnType<typeof webhookReceiver>>;
  const fp: Record<string, string> = {};
  let agentId: string;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'alert-flow'));
    kit = alerting(ds, clock);
    [team, oncall, owner] = await Promise.all([webhookReceiver(KEY), webhookReceiver(KEY), webhookReceiver(KEY)]);
    await kit.channels.add({ name: 'team', type: 'webhook', role: 'all', settings: { url: team.url }, secret: KEY }, 'test');
    await kit.channels.add({ name: 'oncall', type: 'webhook', role: 'escalation', settings: { url: oncall.url }, secret: KEY }, 'test');
    await kit.channels.add({ name: 'payments-hook', type: 'webhook', role: 'owner', settings: { url: owner.url }, secret: KEY }, 'test');
    // Seen "in the future" of the fake clock, so agent-offline stays out of this flow.
    agentId = await addAgent(ds, 'web1', { env: 'prod' }, new Date(t0.getTime() + 100 * DAY));
    for (const days of [40, 20, 10, 3, -1]) {
      const name = `d${days}.example.com`;
      fp[days] = await addCertificate(ds, agentId, { name, path: days === 3 ? `/srv/payments/tls/${name}.pem` : `/etc/ssl/${name}.pem`, notAfter: new Date(t0.getTime() + days * DAY) });
    }
    // Alerts go to the owner: the payments certificate is matched by a path rule naming the owner's channel.
    await kit.ownership.addRule({ name: 'payments', pathGlob: '/srv/payments/**', agentLabels: { env: 'prod' }, team: 'payments', channels: ['payments-hook'], tags: ['pci'] }, 'test');
  });
  afterAll(async () => {
    await Promise.all([team?.close(), oncall?.close(), owner?.close()]);
    await close?.();
  });

  /** One pass at the clock's time, then everything due is sent; returns what each receiver got in it. */
  async function pass() {
    const before = [team.received.length, oncall.received.length, owner.received.length];
    await kit.evaluator.evaluate();
    await kit.delivery.deliverDue();
    const got = (r: typeof team, i: number) => r.received.slice(before[i]).map((x) => `${x.body.event}:${x.body.subjectKey}:${x.body.stageLabel}`).sort();
    return { team: got(team, 0), oncall: got(oncall, 1), owner: got(owner, 2) };
  }
  const at = (days: number) => clock.set(new Date(t0.getTime() + days * DAY));
  const alertOf = (days: number) => ds.getRepository(Alert).findOneByOrFail({ kind: 'expiry', subjectKey: `fp:${fp[days]}` });

  it('sends each threshold once, escalates at the critical stage, and routes to the owner', async () => {
    at(0);
    const first = await pass();
    expect(first.team).toEqual([`raised:fp:${fp[-1]}:expired`, `raised:fp:${fp[10]}:14d`, `raised:fp:${fp[20]}:30d`, `raised:fp:${fp[3]}:7d`].sort());
    expect(first.oncall).toEqual([`raised:fp:${fp[-1]}:expired`, `raised:fp:${fp[3]}:7d`].sort());
    expect(first.owner).toEqual([`raised:fp:${fp[3]}:7d`]);
    const payments = await alertOf(3);
    expect({ team: payments.ownerTeam, tags: payments.tags, severity: payments.severity }).toEqual({ team: 'payments', tags: ['pci'], severity: 'critical' });
    expect(team.rejected).toEqual([]);

    // Repeated passes at the same stage send nothing.
    expect(await pass()).toEqual({ team: [], oncall: [], owner: [] });
    at(1);
    expect(await pass()).toEqual({ team: [], oncall: [], owner: [] });

    // A week later: 20 -> 13 days (14d), 10 -> 3 days (7d, critical), 3 -> expired; 40 -> 33 days stays quiet.
    at(7);
    const week = await pass();
    expect(week.team).toEqual([`raised:fp:${fp[10]}:7d`, `raised:fp:${fp[20]}:14d`, `raised:fp:${fp[3]}:expired`].sort());
    expect(week.oncall).toEqual([`raised:fp:${fp[10]}:7d`, `raised:fp:${fp[3]}:expired`].sort());
    expect(week.owner).toEqual([`raised:fp:${fp[3]}:expired`]);
    expect(await pass()).toEqual({ team: [], oncall: [], owner: [] });
    expect(await ds.getRepository(Alert).countBy({ subjectKey: `fp:${fp[40]}` })).toBe(0);

    const deliveries = await ds.getRepository(NotificationDelivery).find();
    expect(deliveries.every((d) => d.status === 'delivered' && d.attempts === 1 && d.deliveredAt !== null)).toBe(true);
    expect(deliveries).toHaveLength(team.received.length + oncall.received.length + owner.received.length);
  });

  it('resolves an alert when the certificate is renewed, and says so to those told', async () => {
    at(8);
    // The agent reports the renewed file: a new fingerprint, 90 days to go; the old one is gone.
    await ds.getRepository(InventoryItem).delete({ fingerprintSha256: fp[10] });
    const renewed = await addCertificate(ds, agentId, { name: 'd10.example.com', path: '/etc/ssl/d10.example.com.pem', notAfter: new Date(t0.getTime() + 98 * DAY) });
    const got = await pass();
    expect(got.team).toEqual([`resolved:fp:${fp[10]}:7d`]);
    expect(got.oncall).toEqual([`resolved:fp:${fp[10]}:7d`]);
    const old = await alertOf(10);
    expect(old.state).toBe('resolved');
    expect(old.resolvedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(await ds.getRepository(Alert).countBy({ subjectKey: `fp:${renewed}` })).toBe(0);
    expect(await pass()).toEqual({ team: [], oncall: [], owner: [] });
  });

  it('silence suppresses notifications until the date, then a stage reached meanwhile is sent once', async () => {
    const a20 = await alertOf(20); // 12 days left at day 8: stage 14d, notified
    await expect(kit.alerts.silence(a20.id, new Date(clock.now().getTime() - 1000).toISOString(), 'test')).rejects.toThrow(/future/);
    await kit.alerts.silence(a20.id, new Date(t0.getTime() + 16 * DAY).toISOString(), 'alice');
    at(14); // 6 days left: the critical stage, while silenced (only the 40-day certificate's 30d goes out)
    expect(await pass()).toEqual({ team: [`raised:fp:${fp[40]}:30d`], oncall: [], owner: [] });
    expect(await alertOf(20)).toMatchObject({ state: 'silenced', stageLabel: '7d', notifiedStage: 2 });
    at(17); // silence over, 3 days left: the 7d stage is sent now, once
    const resumed = await pass();
    expect(resumed.team).toEqual([`raised:fp:${fp[20]}:7d`]);
    expect(resumed.oncall).toEqual([`raised:fp:${fp[20]}:7d`]);
    expect((await alertOf(20)).state).toBe('open');
    expect(await pass()).toEqual({ team: [], oncall: [], owner: [] });
  });

  it('acknowledging stops further notifications until the alert resolves', async () => {
    at(17); // the 40-day certificate has 23 days: it entered the 30d stage
    expect(await pass()).toEqual({ team: [], oncall: [], owner: [] }); // entered at day 14, sent then
    const a40 = await alertOf(40);
    expect(a40).toMatchObject({ stageLabel: '30d', notifiedStage: 1 });
    await kit.alerts.acknowledge(a40.id, 'bob');
    at(30); // 10 days left: 14d stage, acknowledged
    expect((await pass()).team).not.toContain(`raised:fp:${fp[40]}:14d`);
    expect(await alertOf(40)).toMatchObject({ state: 'acknowledged', stageLabel: '14d', notifiedStage: 1, acknowledgedBy: 'bob' });
    at(38); // expired: still acknowledged, still quiet
    expect((await pass()).team.filter((x) => x.includes(fp[40]))).toEqual([]);
    expect(team.received.filter((r) => r.body.subjectKey === `fp:${fp[40]}`).map((r) => r.body.stageLabel)).toEqual(['30d']);
  });
});
