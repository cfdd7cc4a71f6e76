import 'reflect-metadata';
import { readCertificateFile } from '@certfleet/pki';
import { CertMaker } from '../../../../../libs/policy/src/rules/openssl-cert-kit';
import { PolicyService } from '../policy/policy.service';
import { AlertEvaluator } from './alert-evaluator';
import { Alert } from './alert.entity';
import { FakeClock } from './clock';
import { addAgent, openAlerting, OpenAlerting, reportInventory } from './testing/alert-kit';

jest.setTimeout(120_000);

let maker: CertMaker;
const der: Record<string, Buffer> = {};

beforeAll(() => {
  maker = new CertMaker();
  const ca = maker.ca('/CN=Example Issuing CA');
  // A legacy certificate made by openssl: RSA-1024 signed with SHA-1, breaking two baseline rules.
  der.legacy = maker.make({ key: ['genrsa', '1024'], digest: 'sha1', subject: '/CN=legacy.example.com', sans: ['DNS:legacy.example.com'], ca, days: 90 });
  der.good = maker.make({ ca, sans: ['DNS:www.example.com'], days: 90 });
  // What replaces it: RSA-2048, SHA-256.
  der.fixed = maker.make({ key: ['genrsa', '2048'], subject: '/CN=legacy.example.com', sans: ['DNS:legacy.example.com'], ca, days: 90 });
});
afterAll(() => maker.remove());

// Policy violations, end to end: certificates reported by agents, the fleet policy's pass over the
// inventory (PolicyService, the findings source the alerts module wires), the real evaluation pass
// and delivery worker, webhooks to loopback receivers.
describe.each(['pglite', 'postgresql'] as const)('policy-violation alerts on %s', (database) => {
  let { ds, kit, hooks, services, close } = {} as OpenAlerting;
  const clock = new FakeClock(new Date());
  let policy: PolicyService;
  let evaluator: AlertEvaluator;
  const host: Record<string, string> = {};
  const fp = (d: Buffer) => readCertificateFile(d, { path: 'x.pem', passwords: [] }).certificates[0].fingerprintSha256;

  beforeAll(async () => {
    ({ ds, kit, hooks, services, close } = await openAlerting(database, 'alert-policy', clock, { CERTFLEET_POLICY_PASS_SECONDS: '0' }));
    policy = new PolicyService(ds, kit.config, services.audit);
    evaluator = new AlertEvaluator(ds, kit.ownership, kit.config, clock, policy);
    host.web = await addAgent(ds, 'web-01', { env: 'prod' });
    host.mail = await addAgent(ds, 'mail-01', { env: 'prod' });
    await reportInventory(services.inventory, ds, host.web, { install: [{ path: '/etc/ssl/legacy.pem', content: der.legacy }, { path: '/etc/nginx/www.pem', content: der.good }] });
    await reportInventory(services.inventory, ds, host.mail, { install: [{ path: '/etc/postfix/legacy.pem', content: der.legacy }] });
  });
  afterAll(async () => {
    await close?.();
  });

  const keys = (rules: string[]) => rules.map((rule) => `policy:fp:${fp(der.legacy)}:${rule}`);
  const events = (what: 'raised' | 'resolved') => keys(['no-weak-signatures', 'rsa-2048']).map((k) => `${what}:policy-violation:${k}:violation`);
  const quiet = { team: [], oncall: [] };

  it('raises nothing before the policy pass found anything, then one alert per broken rule, once, to team and on-call', async () => {
    expect(await hooks.pass(evaluator)).toEqual(quiet);
    expect(await policy.runPass()).toMatchObject({ certificates: 3 });
    expect(await hooks.pass(evaluator)).toEqual({ team: events('raised'), oncall: events('raised') });
    expect(await hooks.pass(evaluator)).toEqual(quiet);
    // Another pass over an unchanged inventory changes nothing either.
    await policy.runPass();
    expect(await hooks.pass(evaluator)).toEqual(quiet);

    const alerts = await ds.getRepository(Alert).find({ where: { kind: 'policy-violation' }, order: { subjectKey: 'ASC' } });
    expect(alerts.map((a) => [a.subjectKey, a.state, a.severity, a.stageLabel])).toEqual(keys(['no-weak-signatures', 'rsa-2048']).map((k) => [k, 'open', 'critical', 'violation']));
    expect(alerts[1].title).toBe('legacy.example.com breaks policy rule rsa-2048: RSA key of 1024 bits is below the minimum of 2048 bits');
    expect(alerts[1].detail).toEqual({ certificate: `fp:${fp(der.legacy)}`, rule: 'rsa-2048', message: 'RSA key of 1024 bits is below the minimum of 2048 bits' });
  });

  it('stays open while one host still has the certificate, and resolves when the last is replaced', async () => {
    await reportInventory(services.inventory, ds, host.web, { remove: [{ path: '/etc/ssl/legacy.pem', content: der.legacy }], install: [{ path: '/etc/ssl/legacy.pem', content: der.fixed }] });
    await policy.runPass();
    expect(await hooks.pass(evaluator)).toEqual(quiet);
    expect(await ds.getRepository(Alert).countBy({ kind: 'policy-violation', state: 'open' })).toBe(2);

    await reportInventory(services.inventory, ds, host.mail, { remove: [{ path: '/etc/postfix/legacy.pem', content: der.legacy }], install: [{ path: '/etc/postfix/legacy.pem', content: der.fixed }] });
    // Resolved at once: the stored findings still name the certificate, but no host has it any more.
    expect((await policy.findings()).total).toBe(2);
    expect(await hooks.pass(evaluator)).toEqual({ team: events('resolved'), oncall: events('resolved') });
    // The next policy pass drops those findings; nothing more is said.
    await policy.runPass();
    expect((await policy.findings()).total).toBe(0);
    const alerts = await ds.getRepository(Alert).find({ where: { kind: 'policy-violation' } });
    expect(alerts.map((a) => a.state)).toEqual(['resolved', 'resolved']);
    expect(alerts.every((a) => a.resolvedAt?.getTime() === clock.now().getTime())).toBe(true);
    expect(await hooks.pass(evaluator)).toEqual(quiet);
    expect(hooks.team.rejected).toEqual([]);
  });
});
