import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, IsNull } from 'typeorm';
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
import { certIdOf, parseCertId, RENEWAL_INFO_RETRY_AFTER_S, suggestedWindow } from './renewal-info';
import { AcmeRenewalInfoService } from './renewal-info.service';

jest.setTimeout(120_000);

const work = mkdtempSync(join(tmpdir(), 'cf-acme-ari-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('CertID and suggested window (RFC 9773)', () => {
  it.each([
    ['two parts required', 'abc'],
    ['padding refused', 'YWJj.AQ=='],
    ['not base64url', 'ab+c.AQ'],
    ['negative serial', 'YWJj.gA'],
    ['redundant leading zero', 'YWJj.AAE'],
    ['empty key identifier', '.AQ'],
  ])('malformed: %s', (_name, raw) => {
    expect(() => parseCertId(raw)).toThrow(AcmeProblem);
  });

  it('keeps a leading 00 only where DER needs it, and strips it for the stored serial', () => {
    expect(parseCertId('YWJj.AIA').serialHex).toBe('80');
    expect(parseCertId('YWJj.ASM').serialHex).toBe('0123');
  });

  it('is 2/3 to 3/4 of the lifetime, or already past for a revoked certificate', () => {
    const nb = new Date('2026-01-01T00:00:00Z');
    const na = new Date('2026-01-13T00:00:00Z');
    expect(suggestedWindow(nb, na, null)).toEqual({ start: new Date('2026-01-09T00:00:00Z'), end: new Date('2026-01-10T00:00:00Z') });
    const now = new Date('2026-01-02T00:00:00Z');
    const revoked = suggestedWindow(nb, na, now, now);
    expect(revoked.end.getTime()).toBeLessThan(now.getTime());
    expect(revoked.start.getTime()).toBeLessThan(revoked.end.getTime());
  });
});

// The renewalInfo resource and newOrder's "replaces" against a real database, issuing CA and a real
// HTTP-01 validation on loopback.
describe.each(['pglite', 'postgresql'] as const)('ACME renewal information on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let orders: AcmeOrdersService;
  let ari: AcmeRenewalInfoService;
  let dir: AcmeDirectory;
  let account: AcmeAccount;
  let other: AcmeAccount;
  let http: Server;
  const httpAnswers = new Map<string, string>();

  const req = (payload: Record<string, unknown> | null, who = account): AuthenticatedRequest => ({ jws: {} as AuthenticatedRequest['jws'], payload, account: who, jwk: who.jwk });
  const problem = async (p: Promise<unknown>): Promise<AcmeProblem> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof AcmeProblem) return err;
      throw err;
    }
    throw new Error('expected an ACME problem');
  };
  const idOf = (url: string) => url.split('/').pop()!;
  const csrFor = (name: string) =>
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'k.pem'), '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-outform', 'DER'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('base64url');
  /** A full order through HTTP-01 and finalize; the issued certificate's record. */
  const issue = async (name: string): Promise<IssuedCertificate> => {
    const created = await orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }] }));
    const orderId = idOf(created.headers!.Location);
    const authzId = idOf((created.body as { authorizations: string[] }).authorizations[0]);
    const authz = (await orders.authorization(dir, authzId, req(null))).body as { challenges: Array<{ type: string; token: string }> };
    const token = authz.challenges.find((c) => c.type === 'http-01')!.token;
    httpAnswers.set(token, `${token}.${account.keyThumbprint}`);
    await orders.challenge(dir, authzId, 'http-01', req({}));
    for (let i = 0; i < 100 && ((await orders.order(dir, orderId, req(null))).body as { status: string }).status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
    const done = (await orders.finalize(dir, orderId, req({ csr: csrFor(name) }))).body as { certificate: string };
    return ds.getRepository(IssuedCertificate).findOneByOrFail({ serial: idOf(done.certificate) });
  };

  beforeAll(async () => {
    http = createServer((r, res) => {
      const answer = httpAnswers.get((r.url ?? '').split('/').pop() ?? '');
      res.writeHead(answer ? 200 : 404).end(answer ?? 'no');
    }).listen(0, '127.0.0.1');
    await once(http, 'listening');
    ({ ds, close } = await openTestDataSource(database, 'acme_ari'));
    const config = loadServerConfig({
      CERTFLEET_DATA_DIR: join(work, database),
      CERTFLEET_PUBLIC_URL: 'http://127.0.0.1:9',
      CERTFLEET_ACME_HTTP01_PORT: String((http.address() as AddressInfo).port),
      CERTFLEET_ACME_HOSTS: 'a.ari.test=127.0.0.1,b.ari.test=127.0.0.1',
    });
    const fleetCa = new FleetCaService(config, ds);
    await fleetCa.onModuleInit();
    const audit = new AuditService(ds);
    const cas = new IssuingCasService(config, ds, fleetCa, audit, new PkiUrls(config));
    const ca = await cas.quickStart('lab', 'spec');
    ari = new AcmeRenewalInfoService(ds);
    orders = new AcmeOrdersService(config, ds, cas, new ManagedCertificatesService(config, ds, cas, audit), audit, ari);
    dir = new AcmeDirectory([await cas.find(ca.id)], 'http://127.0.0.1:9/acme/lab');
    const save = () => {
      const key = testKey();
      return ds.getRepository(AcmeAccount).save({ issuingCaId: ca.id, keyThumbprint: jwkThumbprint(key.jwk), jwk: key.jwk, status: 'valid' as const, contact: [], eabKeyId: null });
    };
    account = await save();
    other = await save();
  });
  afterAll(async () => {
    await orders?.onModuleDestroy();
    await close?.();
    http?.close();
  });

  it('answers the window of a known certificate with Retry-After', async () => {
    const cert = await issue('a.ari.test');
    const certId = certIdOf(cert.certificatePem)!;
    // The client's CertID, computed by openssl's view of the certificate, names this serial.
    const serialFromOpenssl = execFileSync('openssl', ['x509', '-noout', '-serial'], { input: cert.certificatePem, encoding: 'utf8' }).trim().split('=')[1].toLowerCase().replace(/^(00)+(?=.)/, '');
    expect(parseCertId(certId).serialHex).toBe(serialFromOpenssl);
    const answer = await ari.renewalInfo(dir, certId);
    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual({ 'Retry-After': String(RENEWAL_INFO_RETRY_AFTER_S) });
    const { start, end } = (answer.body as { suggestedWindow: { start: string; end: string } }).suggestedWindow;
    const life = cert.notAfter.getTime() - cert.notBefore.getTime();
    expect(Date.parse(start)).toBe(Math.floor(cert.notBefore.getTime() + (life * 2) / 3));
    expect(Date.parse(end)).toBe(Math.floor(cert.notBefore.getTime() + (life * 3) / 4));
    expect(Date.parse(start)).toBeGreaterThan(Date.now());
  });

  it('puts a revoked certificate\'s window in the past so clients renew now', async () => {
    const cert = await issue('b.ari.test');
    await ds.getRepository(IssuedCertificate).update({ serial: cert.serial }, { revokedAt: new Date() });
    const { end } = ((await ari.renewalInfo(dir, certIdOf(cert.certificatePem)!)).body as { suggestedWindow: { end: string } }).suggestedWindow;
    expect(Date.parse(end)).toBeLessThan(Date.now());
  });

  it('404 for an unknown CertID, also a known serial under another key identifier; 400 malformed for garbage', async () => {
    const cert = await ds.getRepository(IssuedCertificate).findOneByOrFail({ issuingCaId: dir.ca.id, revokedAt: IsNull() });
    const [, serialPart] = certIdOf(cert.certificatePem)!.split('.');
    const unknown = await problem(ari.renewalInfo(dir, `${Buffer.from('not-this-ca').toString('base64url')}.${serialPart}`));
    expect(unknown.toDocument()).toMatchObject({ status: 404 });
    const [akiPart] = certIdOf(cert.certificatePem)!.split('.');
    expect((await problem(ari.renewalInfo(dir, `${akiPart}.${Buffer.from([0x7f, 1, 2, 3, 4, 5, 6, 7]).toString('base64url')}`))).status).toBe(404);
    const bad = await problem(ari.renewalInfo(dir, 'no-dot-here'));
    expect(bad.toDocument()).toMatchObject({ type: 'urn:ietf:params:acme:error:malformed', status: 400 });
  });

  it('accepts "replaces" for a certificate of the same account and reflects it; refuses others, and a second replacement', async () => {
    const name = 'a.ari.test';
    const [{ serial }] = await ds.query(`SELECT certificate_serial AS serial FROM acme_orders WHERE status = 'valid' AND identifiers->0->>'value' = $1`, [name]);
    const certId = certIdOf((await ds.getRepository(IssuedCertificate).findOneByOrFail({ serial })).certificatePem)!;
    const created = await orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }], replaces: certId }));
    expect(created.body).toMatchObject({ status: 'pending', replaces: certId });
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }], replaces: certId }, other)))).type).toBe('unauthorized');
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: 'b.ari.test' }], replaces: certId })))).type).toBe('malformed');
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }], replaces: 'garbage' })))).type).toBe('malformed');
    expect((await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }], replaces: 42 })))).type).toBe('malformed');

    // RFC 9773 section 5: while that order stands, a second one replacing the same certificate is refused.
    const again = await problem(orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }], replaces: certId })));
    expect(again.toDocument()).toMatchObject({ type: 'urn:ietf:params:acme:error:alreadyReplaced', status: 409 });
    expect(again.message).toContain(`order ${dir.order(idOf(created.headers!.Location))}`);
    // Once it failed (or expired unfinished), the certificate may be replaced again.
    await ds.query(`UPDATE acme_orders SET status = 'invalid' WHERE id = $1`, [idOf(created.headers!.Location)]);
    expect((await orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }], replaces: certId }))).body).toMatchObject({ replaces: certId });
    await ds.query(`UPDATE acme_orders SET expires = now() - interval '1 second' WHERE replaces_serial = $1 AND status = 'pending'`, [serial]);
    expect((await orders.newOrder(dir, req({ identifiers: [{ type: 'dns', value: name }], replaces: certId }))).body).toMatchObject({ replaces: certId });
  });
});
