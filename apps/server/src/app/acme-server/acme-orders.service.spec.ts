import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { DataSource } from 'typeorm';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { PkiUrls } from '../issuing-cas/pki-urls';
import { ManagedCertificatesService } from '../managed/managed-certificates.service';
import { AcmeAccount } from './acme-account.entity';
import { AcmeOrdersService } from './acme-orders.service';
import { AcmeProblem } from './acme-problem';
import { AcmeDirectory, type AuthenticatedRequest } from './acme-request';
import { testKey } from './jws-test-kit';
import { jwkThumbprint } from './jws';

jest.setTimeout(120_000);

const work = mkdtempSync(join(tmpdir(), 'cf-acme-orders-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Orders through their states against a real database and issuing CA, with real HTTP-01 and DNS-01
// responders on loopback: hostile or premature requests get the RFC's problem and issue nothing.
describe.each(['pglite', 'postgresql'] as const)('ACME orders on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let orders: AcmeOrdersService;
  let dir: AcmeDirectory;
  let account: AcmeAccount;
  let http: Server;
  let dns: Socket;
  const httpAnswers = new Map<string, string>();
  const txt = new Map<string, string>();

  const req = (payload: Record<string, unknown> | null): AuthenticatedRequest => ({ jws: {} as AuthenticatedRequest['jws'], payload, account, jwk: account.jwk });
  const problem = async (p: Promise<unknown>): Promise<AcmeProblem> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof AcmeProblem) return err;
      throw err;
    }
    throw new Error('expected an ACME problem');
  };
  const issuedCount = async () => ds.getRepository(IssuedCertificate).count();
  // A CSR as an ACME client makes it: openssl, a fresh P-256 key, the names in subjectAltName.
  const csrFor = async (names: string[]) =>
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'k.pem'), '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`, '-outform', 'DER'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('base64url');
  const idOf = (url: string) => url.split('/').pop()!;
  const waitOrder = async (orderId: string, status: string) => {
    for (let i = 0; i < 100; i++) {
      const o = (await orders.order(dir, orderId, req(null))).body as { status: string };
      if (o.status === status) return o;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`order ${orderId} never became ${status}`);
  };

  beforeAll(async () => {
    http = createServer((r, res) => {
      const answer = httpAnswers.get((r.url ?? '').split('/').pop() ?? '');
      res.writeHead(answer ? 200 : 404).end(answer ?? 'no');
    }).listen(0, '127.0.0.1');
    await once(http, 'listening');
    dns = createSocket('udp4');
    dns.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const name = q.questions![0].name;
      const answers = txt.has(name) ? [{ type: 'TXT' as const, name, ttl: 1, data: txt.get(name)! }] : [];
      dns.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED, questions: q.questions, answers }), rinfo.port, rinfo.address);
    });
    dns.bind(0, '127.0.0.1');
    await once(dns, 'listening');
    ({ ds, close } = await openTestDataSource(database, 'acme_orders'));
    const config = loadServerConfig({
      CERTFLEET_DATA_DIR: join(work, database),
      CERTFLEET_PUBLIC_URL: 'http://127.0.0.1:9',
      CERTFLEET_ACME_HTTP01_PORT: String((http.address() as AddressInfo).port),
      CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${(dns.address() as AddressInfo).port}`,
      CERTFLEET_ACME_HOSTS: 'a.acme.test=127.0.0.1,b.acme.test=127.0.0.1',
    });
    const fleetCa = new FleetCaService(config, ds);
    await fleetCa.onModuleInit();
    const audit = new AuditService(ds);
    const cas = new IssuingCasService(config, ds, fleetCa, audit, new PkiUrls(config));
    const ca = await cas.quickStart('lab', 'spec');
    orders = new AcmeOrdersService(config, ds, cas, new ManagedCertificatesService(config, ds, cas, audit), audit);
    dir = new AcmeDirectory([await cas.find(ca.id)], 'http://127.0.0.1:9/acme/lab');
    const key = testKey();
    account = await ds.getRepository(AcmeAccount).save({ issuingCaId: ca.id, keyThumbprint: jwkThumbprint(key.jwk), jwk: key.jwk, status: 'valid', contact: [], eabKeyId: null });
  });
  afterAll(async () => {
    await orders?.onModuleDestroy();
    await close?.();
    http?.close();
    dns?.close();
  });

  it('refuses bad identifiers and validity requests before creating anything', async () => {
    const before = await ds.query(`SELECT count(*)::int AS n FROM "acme_orders"`);
    expect((await problem(orders.newOrder(dir, req({ identifiers: [] })))).type).toBe('malformed');
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'email', value: 'a@b.c' }] })))).type).toBe('unsupportedIdentifier');
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: 'bad_name..test' }] })))).type).toBe('rejectedIdentifier');
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: '*.acme.test' }] })))).type).toBe('rejectedIdentifier'); // policy: no wildcards
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: 'a.acme.test' }], notAfter: '2030-01-01T00:00:00Z' })))).type).toBe('malformed');
    expect(await ds.query(`SELECT count(*)::int AS n FROM "acme_orders"`)).toEqual(before);
  });

  it('goes pending -> ready -> valid through HTTP-01 and DNS-01; finalize checks the CSR names', async () => {
    const created = await orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: 'A.acme.test' }, { type: 'dns', value: 'b.acme.test' }] }));
    const order = created.body as { status: string; authorizations: string[]; finalize: string; identifiers: unknown };
    expect(order).toMatchObject({ status: 'pending', identifiers: [{ type: 'dns', value: 'a.acme.test' }, { type: 'dns', value: 'b.acme.test' }] });
    const orderId = idOf(created.headers!.Location);
    const csr = await csrFor(['a.acme.test', 'b.acme.test']);
    expect((await problem(orders.finalize(dir, orderId, req({ csr })))).toDocument()).toMatchObject({ type: 'urn:ietf:params:acme:error:orderNotReady', status: 403 });

    const [authzA, authzB] = await Promise.all(order.authorizations.map(async (u) => ((await orders.authorization(dir, idOf(u), req(null))).body as { challenges: Array<{ type: string; token: string; url: string }> })));
    const httpA = authzA.challenges.find((c) => c.type === 'http-01')!;
    httpAnswers.set(httpA.token, `${httpA.token}.${account.keyThumbprint}`);
    const dnsB = authzB.challenges.find((c) => c.type === 'dns-01')!;
    txt.set('_acme-challenge.b.acme.test', createHash('sha256').update(`${dnsB.token}.${account.keyThumbprint}`).digest('base64url'));
    await orders.challenge(dir, idOf(order.authorizations[0]), 'http-01', req({}));
    await orders.challenge(dir, idOf(order.authorizations[1]), 'dns-01', req({}));
    await waitOrder(orderId, 'ready');

    const before = await issuedCount();
    const wrongNames = await problem(orders.finalize(dir, orderId, req({ csr: await csrFor(['a.acme.test']) })));
    expect(wrongNames.type).toBe('badCSR');
    expect(wrongNames.message).toContain('exactly the order\'s identifiers');
    expect((await problem(orders.finalize(dir, orderId, req({ csr: 'not*base64' })))).type).toBe('malformed');
    expect((await problem(orders.finalize(dir, orderId, req({ csr: Buffer.from('garbage').toString('base64url') })))).type).toBe('badCSR');
    expect(await issuedCount()).toBe(before);

    const done = (await orders.finalize(dir, orderId, req({ csr }))).body as { status: string; certificate: string };
    expect(done.status).toBe('valid');
    const pem = await orders.certificate(dir, idOf(done.certificate), req(null));
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(await issuedCount()).toBe(before + 1);
    // Finalizing again issues nothing more.
    expect((await problem(orders.finalize(dir, orderId, req({ csr })))).type).toBe('orderNotReady');
    expect(await issuedCount()).toBe(before + 1);
  });

  it('issues for an IP identifier validated by HTTP-01 to that address', async () => {
    const created = await orders.newOrder(dir, req({ identifiers: [{ type: 'ip', value: '127.0.0.1' }] }));
    const orderId = idOf(created.headers!.Location);
    const authzId = idOf((created.body as { authorizations: string[] }).authorizations[0]);
    const authz = (await orders.authorization(dir, authzId, req(null))).body as { challenges: Array<{ type: string; token: string }> };
    expect(authz.challenges.map((c) => c.type).sort()).toEqual(['http-01', 'tls-alpn-01']);
    const token = authz.challenges.find((c) => c.type === 'http-01')!.token;
    httpAnswers.set(token, `${token}.${account.keyThumbprint}`);
    await orders.challenge(dir, authzId, 'http-01', req({}));
    await waitOrder(orderId, 'ready');
    const done = (await orders.finalize(dir, orderId, req({ csr: await csrFor(['127.0.0.1']) }))).body as { certificate: string };
    const pem = await orders.certificate(dir, idOf(done.certificate), req(null));
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: pem, encoding: 'utf8' });
    expect(text).toContain('IP Address:127.0.0.1');
  });

  it('a wrong HTTP-01 answer makes the authorization and the order invalid', async () => {
    const created = await orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: 'a.acme.test' }] }));
    const orderId = idOf(created.headers!.Location);
    const authzId = idOf((created.body as { authorizations: string[] }).authorizations[0]);
    const authz = (await orders.authorization(dir, authzId, req(null))).body as { challenges: Array<{ type: string; token: string }> };
    httpAnswers.set(authz.challenges.find((c) => c.type === 'http-01')!.token, 'wrong.answer');
    await orders.challenge(dir, authzId, 'http-01', req({}));
    const failed = (await waitOrder(orderId, 'invalid')) as { error?: { type: string } };
    expect(failed.error?.type).toBe('urn:ietf:params:acme:error:incorrectResponse');
    const after = (await orders.authorization(dir, authzId, req(null))).body as { status: string };
    expect(after.status).toBe('invalid');
  });
});
