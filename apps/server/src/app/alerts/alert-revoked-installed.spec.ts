import 'reflect-metadata';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { readCertificateFile, RevocationChecker } from '@certfleet/pki';
import { CertificateRevocationStatus } from '../inventory/certificate-revocation-status.entity';
import { RevocationStatusService } from '../inventory/revocation-status.service';
import { pkiHttpHandler } from '../revocation/pki-http.handler';
import { Alert } from './alert.entity';
import { FakeClock } from './clock';
import { addAgent, openAlerting, OpenAlerting, reportInventory, runDueJob } from './testing/alert-kit';

jest.setTimeout(120_000);

// Revoked certificates still installed, end to end: certificates from a lab CA issued through the
// jobs service and reported by agents, one revoked through the revocation service, its status
// learned by the revocation check over OCSP from this server's own responder on loopback; the
// real evaluation pass and delivery worker, webhooks to loopback receivers.
describe.each(['pglite', 'postgresql'] as const)('revoked-installed alerts on %s', (database) => {
  let { ds, kit, hooks, services, close } = {} as OpenAlerting;
  let server: Server;
  const clock = new FakeClock(new Date());
  let statuses: RevocationStatusService;
  const host: Record<string, string> = {};
  type Managed = Awaited<ReturnType<typeof services.managed.create>>;
  let api: Managed;
  let apiPem: string;
  const apiCopy = '/etc/ssl/api-copy.pem';

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // Issued certificates name this server's OCSP responder and CRL (AIA, CDP).
    ({ ds, kit, hooks, services, close } = await openAlerting(database, 'alert-revoked', clock, { CERTFLEET_PUBLIC_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
    const pki = pkiHttpHandler({ ocsp: services.ocsp, crls: services.crls, cas: services.cas });
    server.on('request', (req, res) => pki(req, res, () => res.writeHead(404).end()));
    statuses = new RevocationStatusService(ds, kit.config, new RevocationChecker({ timeoutMs: 5000 }));
    await services.cas.quickStart('lab', 'test');
    // Agents report now and then; the clock stays near the real time, well inside the offline limit.
    host.web = await addAgent(ds, 'web-01', { env: 'prod' });
    host.backup = await addAgent(ds, 'backup-01', { env: 'prod' });

    // web-01 runs api and www; someone copied api's certificate by hand onto backup-01.
    const www = await manage('www');
    ({ fullchainPem: apiPem, ...api } = await manage('api'));
    await report(host.web, { install: [{ path: '/srv/api/fullchain.pem', content: apiPem }, { path: '/srv/www/fullchain.pem', content: www.fullchainPem }] });
    await report(host.backup, { install: [{ path: apiCopy, content: apiPem }] });
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await close?.();
  });

  async function manage(name: string): Promise<Managed & { fullchainPem: string }> {
    const mc = await services.managed.create(
      { name, agentId: host.web, issuer: 'lab', profile: { dnsNames: [`${name}.example.test`], ipAddresses: [], validityDays: 90 }, targets: [{ kind: 'fullchain-pem', path: `/srv/${name}/fullchain.pem`, keyPath: `/srv/${name}/key.pem` }] },
      'test',
    );
    const { fullchainPem } = await runDueJob(services, ds, mc, new Date());
    return { ...mc, fullchainPem: fullchainPem! };
  }
  const report = (agentId: string, change: Parameters<typeof reportInventory>[3]) => reportInventory(services.inventory, ds, agentId, change);
  const leafFingerprint = (pem: string) => readCertificateFile(Buffer.from(pem), { path: 'x.pem', passwords: [] }).certificates[0].fingerprintSha256;
  const event = (what: 'raised' | 'resolved') => `${what}:revoked-installed:fp:${leafFingerprint(apiPem)}:revoked`;
  const alertOf = () => ds.getRepository(Alert).findOneByOrFail({ kind: 'revoked-installed', subjectKey: `fp:${leafFingerprint(apiPem)}` });
  const quiet = { team: [], oncall: [] };

  it('raises as soon as a certfleet CA revokes an installed certificate, once, to team and on-call', async () => {
    expect(await hooks.pass()).toEqual(quiet);
    const outcome = await services.revocations.revoke(api.id, 'keyCompromise', 'test', { replace: true });
    expect(outcome.revoked).toEqual([expect.objectContaining({ managedCertificateId: api.id, reason: 'keyCompromise', alreadyRevoked: false })]);
    // The revoking CA records the installed copies as revoked at once: no wait for the next check.
    expect(await ds.getRepository(CertificateRevocationStatus).findOneByOrFail({ fingerprintSha256: leafFingerprint(apiPem) })).toMatchObject({ status: 'revoked', source: 'ca', reason: 'keyCompromise' });
    expect(await hooks.pass()).toEqual({ team: [event('raised')], oncall: [event('raised')] });

    const run = await statuses.checkNow();
    // api revoked, www good, the issuing CA (in both full chains) unknown: its root is installed nowhere.
    expect(run.counts).toEqual({ good: 1, revoked: 1, unknown: 1, unreachable: 0 });
    // The CA's own record is final (a revocation is): the check keeps it rather than asking again.
    expect(await ds.getRepository(CertificateRevocationStatus).findOneByOrFail({ fingerprintSha256: leafFingerprint(apiPem) })).toMatchObject({ status: 'revoked', source: 'ca', reason: 'keyCompromise' });
    expect(await hooks.pass()).toEqual(quiet);
    const alert = await alertOf();
    expect(alert).toMatchObject({ state: 'open', severity: 'critical', stageLabel: 'revoked', title: 'revoked certificate api.example.test still installed on 2 host location(s)' });
    expect(alert.detail).toMatchObject({ fingerprint: leafFingerprint(apiPem), reason: 'keyCompromise', revokedAt: expect.any(String) });
    expect((alert.detail.locations as { hostname: string; path: string }[]).map((l) => `${l.hostname}:${l.path}`).sort()).toEqual(['backup-01:/etc/ssl/api-copy.pem', 'web-01:/srv/api/fullchain.pem']);
    expect(await ds.getRepository(Alert).countBy({ kind: 'revoked-installed' })).toBe(1);
  });

  it('stays open while a copy remains, and resolves when the last one is removed from the inventory', async () => {
    // The replacement the revocation asked for: web-01 installs the new certificate over the old one.
    const { fullchainPem } = await runDueJob(services, ds, api, new Date());
    await report(host.web, { remove: [{ path: '/srv/api/fullchain.pem', content: apiPem }], install: [{ path: '/srv/api/fullchain.pem', content: fullchainPem! }] });
    expect(await hooks.pass()).toEqual(quiet);
    expect(await alertOf()).toMatchObject({ state: 'open', notifiedStage: 1, title: 'revoked certificate api.example.test still installed on 1 host location(s)' });

    await report(host.backup, { remove: [{ path: apiCopy, content: apiPem }] });
    expect(await hooks.pass()).toEqual({ team: [event('resolved')], oncall: [event('resolved')] });
    const alert = await alertOf();
    expect(alert.state).toBe('resolved');
    expect(alert.resolvedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(await hooks.pass()).toEqual(quiet);
    expect(hooks.team.rejected).toEqual([]);
  });
});
