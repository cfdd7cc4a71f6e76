import 'reflect-metadata';
import { Agent } from '../agents/agent.entity';
import { Alert } from './alert.entity';
import { FakeClock } from './clock';
import { addAgent, DAY, openAlerting, OpenAlerting, reportInventory } from './testing/alert-kit';

jest.setTimeout(90_000);

const MINUTE = 60_000;
// Not the default (30): the setting is what decides.
const N = 45;

// Agents offline longer than CERTFLEET_ALERT_AGENT_OFFLINE_MINUTES, end to end: the real pass and
// delivery worker, webhooks to loopback receivers; agents come back through the services that
// record their heartbeats and reports. The fake clock starts at the real time and only moves on,
// so the times those services stamp stay behind it.
describe.each(['pglite', 'postgresql'] as const)('agent-offline alerts on %s', (database) => {
  let { ds, kit, hooks, services, close } = {} as OpenAlerting;
  const t0 = new Date();
  const clock = new FakeClock(t0);
  const agent: Record<string, string> = {};

  beforeAll(async () => {
    ({ ds, kit, hooks, services, close } = await openAlerting(database, 'alert-offline', clock, { CERTFLEET_ALERT_AGENT_OFFLINE_MINUTES: String(N) }));
    // Last heard from N-1 minutes ago.
    agent.web = await addAgent(ds, 'web-01', { env: 'prod' }, new Date(t0.getTime() - (N - 1) * MINUTE));
    // Enrolled N+5 minutes ago and never connected since: enrollment counts as the last contact.
    agent.db = await addAgent(ds, 'db-01', { role: 'db' }, new Date(t0.getTime() - (N + 5) * MINUTE));
    await ds.getRepository(Agent).update({ id: agent.db }, { lastSeenAt: null });
    // Silent for days, but disabled by an administrator: not expected to call in.
    agent.gone = await addAgent(ds, 'old-01', {}, new Date(t0.getTime() - 3 * DAY));
    await ds.getRepository(Agent).update({ id: agent.gone }, { disabledAt: new Date(t0.getTime() - 2 * DAY) });
    await kit.ownership.addRule({ name: 'databases', agentLabels: { role: 'db' }, team: 'dba', tags: ['db'] }, 'test');
  });
  afterAll(async () => {
    await close?.();
  });

  const at = (minutes: number) => clock.set(new Date(t0.getTime() + minutes * MINUTE));
  const raised = (key: string) => `raised:agent-offline:agent:${agent[key]}:offline`;
  const resolved = (key: string) => `resolved:agent-offline:agent:${agent[key]}:offline`;
  const alertOf = (key: string) => ds.getRepository(Alert).findOneByOrFail({ kind: 'agent-offline', subjectKey: `agent:${agent[key]}` });
  const quiet = { team: [], oncall: [] };

  it(`raises nothing at ${N - 1} or ${N} minutes of silence, raises at ${N + 1}, once, to the team only (a warning)`, async () => {
    at(0);
    // Only the agent that never connected is past N minutes; the disabled one is ignored.
    expect(await hooks.pass()).toEqual({ team: [raised('db')], oncall: [] });
    at(1); // web-01 silent for exactly N minutes: not longer than N
    expect(await hooks.pass()).toEqual(quiet);
    at(2); // N+1 minutes
    expect(await hooks.pass()).toEqual({ team: [raised('web')], oncall: [] });
    expect(await hooks.pass()).toEqual(quiet);
    at(30);
    expect(await hooks.pass()).toEqual(quiet);

    const web = await alertOf('web');
    expect(web).toMatchObject({ state: 'open', severity: 'warning', stageLabel: 'offline', episode: 1, notifiedStage: 1 });
    expect(web.title).toBe(`agent web-01 not seen for more than ${N} minutes`);
    expect(web.detail).toEqual({ agentId: agent.web, hostname: 'web-01', lastSeenAt: new Date(t0.getTime() - (N - 1) * MINUTE).toISOString() });
    // Owned by the team whose rule matches the agent's labels.
    expect(await alertOf('db')).toMatchObject({ ownerTeam: 'dba', tags: ['db'], detail: { agentId: agent.db, hostname: 'db-01', lastSeenAt: null } });
    expect(await ds.getRepository(Alert).countBy({ subjectKey: `agent:${agent.gone}` })).toBe(0);
    const sent = hooks.team.received.filter((r) => r.body.kind === 'agent-offline');
    expect(sent.map((r) => r.body.title)).toEqual([`agent db-01 not seen for more than ${N} minutes`, `agent web-01 not seen for more than ${N} minutes`]);
    expect(hooks.team.rejected).toEqual([]);
  });

  it('resolves when the agent calls in again (a heartbeat, or its first inventory report), and tells the team', async () => {
    at(31);
    await services.agents.recordHeartbeat(agent.web);
    expect(await hooks.pass()).toEqual({ team: [resolved('web')], oncall: [] });
    const web = await alertOf('web');
    expect(web.state).toBe('resolved');
    expect(web.resolvedAt?.toISOString()).toBe(clock.now().toISOString());

    // db-01 connects for the first time: its full sync marks it seen.
    await reportInventory(services.inventory, ds, agent.db, {});
    expect(await hooks.pass()).toEqual({ team: [resolved('db')], oncall: [] });
    expect((await alertOf('db')).state).toBe('resolved');
    expect(await hooks.pass()).toEqual(quiet);
  });

  it('opens a new episode when the agent goes quiet again, and notifies it once more', async () => {
    const seen = (await ds.getRepository(Agent).findOneByOrFail({ id: agent.web })).lastSeenAt!;
    clock.set(new Date(seen.getTime() + (N - 1) * MINUTE));
    expect((await hooks.pass()).team.filter((x) => x.includes(agent.web))).toEqual([]);
    clock.set(new Date(seen.getTime() + (N + 1) * MINUTE));
    expect((await hooks.pass()).team.filter((x) => x.includes(agent.web))).toEqual([raised('web')]);
    expect(await alertOf('web')).toMatchObject({ state: 'open', episode: 2, resolvedAt: null });
    expect(hooks.team.received.filter((r) => r.body.subjectKey === `agent:${agent.web}`).map((r) => `${r.body.event}#${r.body.episode}`)).toEqual(['raised#1', 'resolved#1', 'raised#2']);
    expect(hooks.oncall.received).toEqual([]);
  });
});
