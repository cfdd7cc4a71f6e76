import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as acme from 'acme-client';
import { DataSource } from 'typeorm';
import { cli, freePort, ServerProcess, startServerProcess, testServerEnv } from '../../../e2e/support/processes';
import { createTestDatabase, TestDatabase } from '../../../../../tools/test/databases';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { AcmeCertificate } from './acme-certificate.entity';
import { AcmeIssuer } from './acme-issuer.entity';
import { AcmeIssuersService } from './acme-issuers.service';
import { AcmeOrdersService, type AcmeIssuedCertificate } from './acme-orders.service';
import { AriScheduler } from './ari-scheduler.service';
import { ariCertId, renewalTimeInWindow } from './ari';

jest.setTimeout(120_000);

describe('renewal time inside an ARI window', () => {
  const now = new Date('2026-03-01T00:00:00Z');
  const at = (iso: string) => new Date(iso);
  it.each([
    ['future window, random at its start', { start: at('2026-03-10T00:00:00Z'), end: at('2026-03-12T00:00:00Z') }, at('2026-04-01T00:00:00Z'), () => 0, at('2026-03-10T00:00:00Z')],
    ['future window, random at its end', { start: at('2026-03-10T00:00:00Z'), end: at('2026-03-12T00:00:00Z') }, at('2026-04-01T00:00:00Z'), (n: number) => n - 1, at('2026-03-12T00:00:00Z')],
    ['never later than the ordinary schedule', { start: at('2026-03-10T00:00:00Z'), end: at('2026-03-12T00:00:00Z') }, at('2026-03-05T00:00:00Z'), (n: number) => n - 1, at('2026-03-05T00:00:00Z')],
    ['a past window means now', { start: at('2026-02-01T00:00:00Z'), end: at('2026-02-02T00:00:00Z') }, at('2026-04-01T00:00:00Z'), (n: number) => n - 1, now],
  ])('%s', (_name, window, ordinary, random, expected) => {
    expect(renewalTimeInWindow(window, ordinary, now, random)).toEqual(expected);
  });
});

// The ACME issuer against certfleet's own ACME server (the real built server, its "lab" CA), with a
// real HTTP-01 validation on loopback. The agent's part (serving the token, installing) is done by
// the spec: it serves the key authorization and records the install as the jobs service does.
describe.each(['pglite', 'postgresql'] as const)('ACME issuer with ARI against certfleet\'s ACME server on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-ari-${database}-`));
  let serverDb: TestDatabase | undefined;
  let server: ServerProcess;
  let http: Server;
  let ds: DataSource;
  let close: () => Promise<void>;
  let issuers: AcmeIssuersService;
  let orders: AcmeOrdersService;
  let issuer: AcmeIssuer;
  let managed: ManagedCertificate;
  let renewalInfoBase: string;
  const answers = new Map<string, string>();
  const sentReplaces: Array<string | undefined> = [];
  let interceptor: number;

  const csr = () => execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'k.pem'), '-subj', '/CN=ari.test', '-addext', 'subjectAltName=DNS:ari.test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const reload = async () => (managed = await ds.getRepository(ManagedCertificate).findOneByOrFail({ id: managed.id }));
  /** One order; then what the jobs service records once the agent installed it (ordinary schedule: 10 days before expiry). */
  const renew = async (): Promise<AcmeIssuedCertificate> => {
    const jobId = randomUUID();
    const out = await orders.order({ jobId, agentId: managed.agentId, managed: await reload(), csrPem: csr() });
    if ('error' in out) throw new Error(out.error);
    await ds.getRepository(AcmeCertificate).insert({ serial: out.serialHex, acmeIssuerId: issuer.id, managedCertificateId: managed.id, jobId, publicKeySha256: 'x'.repeat(64), fingerprintSha256: out.fingerprintSha256, certificatePem: out.certificatePem, chainPem: out.chainPem, rootPem: out.rootPem, orderUrl: out.orderUrl, notBefore: out.notBefore, notAfter: out.notAfter, issuedAt: new Date(), revokedAt: null, revocationReason: null });
    await ds.getRepository(ManagedCertificate).update({ id: managed.id }, { status: 'active', currentSerial: out.serialHex, currentFingerprint: out.fingerprintSha256, notBefore: out.notBefore, notAfter: out.notAfter, nextRenewalAt: new Date(out.notAfter.getTime() - 10 * 86_400_000) });
    return out;
  };
  const windowOf = async (certificatePem: string) => {
    const res = await fetch(`${renewalInfoBase}/${ariCertId(certificatePem)}`);
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const w = ((await res.json()) as { suggestedWindow: { start: string; end: string } }).suggestedWindow;
    return { start: new Date(w.start), end: new Date(w.end) };
  };

  beforeAll(async () => {
    http = createServer((r, res) => {
      const answer = answers.get((r.url ?? '').split('/').pop() ?? '');
      res.writeHead(answer ? 200 : 404).end(answer ?? 'no');
    }).listen(0, '127.0.0.1');
    await once(http, 'listening');
    if (database === 'postgresql') serverDb = await createTestDatabase('acme_ari_server');
    server = await startServerProcess(await testServerEnv(work, serverDb?.url, { CERTFLEET_ACME_HTTP01_PORT: String((http.address() as AddressInfo).port), CERTFLEET_ACME_HOSTS: 'ari.test=127.0.0.1', CERTFLEET_ACME_TLSALPN01_PORT: String(await freePort()) }));
    const cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    const made = await cli(['ca', 'quick-start', '--name', 'lab'], cliEnv);
    if (made.code !== 0) throw new Error(`quick-start: ${made.stderr}`);
    const lab = JSON.parse((await cli(['ca', 'show', 'lab', '--json'], cliEnv)).stdout) as { rootPem: string };
    const directoryUrl = `${server.httpUrl}/acme/lab/directory`;
    renewalInfoBase = ((await (await fetch(directoryUrl)).json()) as { renewalInfo: string }).renewalInfo;

    ({ ds, close } = await openTestDataSource(database, 'acme_ari_issuer'));
    const config = loadServerConfig({ CERTFLEET_DATA_DIR: join(work, `issuer-${database}`) });
    const fleetCa = new FleetCaService(config, ds);
    await fleetCa.onModuleInit();
    issuers = new AcmeIssuersService(ds, fleetCa, new AuditService(ds));
    orders = new AcmeOrdersService(ds, issuers, config);
    orders.attachDelivery((_agentId, msg) => {
      if (msg.payload?.$case === 'jobChallenge') {
        const { jobId, token, keyAuthorization } = msg.payload.value;
        answers.set(token, keyAuthorization);
        setImmediate(() => orders.challenges.onReady({ jobId, token, error: '' } as Parameters<typeof orders.challenges.onReady>[0]));
      }
      return true;
    });
    // The directory is plain HTTP on loopback, so the row is written as create() would write it
    // for an https URL (create() refuses http, as RFC 8555 asks).
    issuer = await ds.getRepository(AcmeIssuer).save({ name: 'own', directoryUrl, contactEmail: null, eabKid: null, encryptedEabHmacKey: null, directoryTrustPem: null, rootPem: lab.rootPem, maxIssuancesPerDay: 2, encryptedAccountKey: issuers.seal((await acme.crypto.createPrivateEcdsaKey()).toString()), accountUrl: null, removedAt: null });
    expect(issuer.ariEnabled).toBe(true); // the column's default
    managed = await ds.getRepository(ManagedCertificate).save({ name: `www-${database}`, agentId: randomUUID(), issuerKind: 'acme', issuingCaId: null, acmeIssuerId: issuer.id, acmeChallenge: { type: 'http-01', mode: 'standalone', port: 80 }, profile: { keyType: 'ec-p256', dnsNames: ['ari.test'], ipAddresses: [], validityDays: 90, usages: ['tls-server'] }, targets: [], validation: null, renewBeforeDays: null, status: 'pending', currentSerial: null, currentFingerprint: null, notBefore: null, notAfter: null, nextRenewalAt: new Date(), failureCount: 0, lastError: null } as Partial<ManagedCertificate>);
    interceptor = acme.axios.interceptors.response.use((res) => {
      if (String(res.config.url).endsWith('/new-order') && res.status === 201) sentReplaces.push((res.data as { replaces?: string }).replaces);
      return res;
    });
  });

  afterAll(async () => {
    acme.axios.interceptors.response.eject(interceptor);
    await close?.();
    if (server) await server.stop();
    await serverDb?.drop();
    http?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('fetches the window after issuance and moves nextRenewalAt to a time inside it; the renewal sends "replaces"', async () => {
    const first = await renew();
    expect(sentReplaces).toEqual([undefined]);
    const ordinary = (await reload()).nextRenewalAt!;
    const ari = new AriScheduler(ds, issuers);
    expect(await ari.checkDue()).toBe(1);
    const window = await windowOf(first.certificatePem);
    const next = (await reload()).nextRenewalAt!;
    expect(next.getTime()).toBeGreaterThanOrEqual(window.start.getTime());
    expect(next.getTime()).toBeLessThanOrEqual(window.end.getTime());
    expect(next.getTime()).toBeLessThan(ordinary.getTime());
    // Not due again before the CA's Retry-After: nothing moves.
    expect(await ari.checkDue()).toBe(0);

    const second = await renew();
    expect(sentReplaces).toEqual([undefined, ariCertId(first.certificatePem)]);
    // A new current certificate is checked at once.
    expect(await ari.checkDue()).toBe(1);
    const w2 = await windowOf(second.certificatePem);
    expect((await reload()).nextRenewalAt!.getTime()).toBeGreaterThanOrEqual(w2.start.getTime());
    expect(managed.nextRenewalAt!.getTime()).toBeLessThanOrEqual(w2.end.getTime());
  });

  it('a revoked certificate\'s past window makes renewal due now, and the reissue guard still caps issuances', async () => {
    const current = await ds.getRepository(AcmeCertificate).findOneByOrFail({ serial: (await reload()).currentSerial! });
    const client = await withClient();
    await client.revokeCertificate(current.certificatePem);
    const window = await windowOf(current.certificatePem);
    expect(window.end.getTime()).toBeLessThan(Date.now());
    // A fresh checker (as after a restart, or at the Retry-After) sees the past window.
    const before = Date.now();
    expect(await new AriScheduler(ds, issuers).checkDue()).toBe(1);
    expect((await reload()).nextRenewalAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(managed.nextRenewalAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    // Due now, but two certificates were issued in the last 24 h (maxIssuancesPerDay 2): no order.
    const refused = await orders.order({ jobId: randomUUID(), agentId: managed.agentId, managed, csrPem: csr() });
    expect(refused).toMatchObject({ error: expect.stringContaining('reissue guard') });
    expect((refused as { retryAt?: Date }).retryAt!.getTime()).toBeGreaterThan(Date.now());
    expect(sentReplaces).toHaveLength(2);
    expect(await ds.getRepository(AcmeCertificate).countBy({ managedCertificateId: managed.id })).toBe(2);
    expect(new X509Certificate(current.certificatePem).serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '')).toBe(current.serial);
  });

  async function withClient(): Promise<acme.Client> {
    return issuers.client(await ds.getRepository(AcmeIssuer).findOneByOrFail({ id: issuer.id }));
  }
});
