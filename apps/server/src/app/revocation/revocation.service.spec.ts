import 'reflect-metadata';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createRootCa, signIntermediate } from '@certfleet/pki';
import { loadServerConfig, ServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { Agent } from '../agents/agent.entity';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { PkiUrls } from '../issuing-cas/pki-urls';
import { CertificateJob } from '../jobs/certificate-job.entity';
import { JobsService } from '../jobs/jobs.service';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { ManagedCertificatesService } from '../managed/managed-certificates.service';
import { CrlPublisher } from './crl-publisher.service';
import { OcspResponder } from './ocsp-responder.service';
import { pkiHttpHandler } from './pki-http.handler';
import { RevocationEvents } from './revocation-events.service';
import { normalizeSerial, RevocationService } from './revocation.service';

jest.setTimeout(120_000);

const AGENT = '33333333-3333-4333-8333-333333333333';
const dir = mkdtempSync(join(tmpdir(), 'cf-revocation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data?: string | Buffer) => (data !== undefined && writeFileSync(join(dir, name), data), join(dir, name));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/**
 * openssl ocsp, asynchronously (the responder runs in this process); its verdicts go to stderr
 * ("Response verify OK"), the statuses to stdout.
 */
const ocspCli = (...args: string[]): Promise<string> =>
  new Promise((resolve) => execFile('openssl', ['ocsp', ...args], { cwd: dir, encoding: 'utf8', timeout: 20_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`)));

/** One server replica: its own caches, sharing the database (and, on PostgreSQL, its notices). */
function replica(config: ServerConfig, ds: DataSource, fleetCa: FleetCaService, audit: AuditService) {
  const cas = new IssuingCasService(config, ds, fleetCa, audit, new PkiUrls(config));
  const crls = new CrlPublisher(config, ds, cas);
  const ocsp = new OcspResponder(config, ds, cas);
  const events = new RevocationEvents(config, ocsp);
  const revocations = new RevocationService(ds, audit, crls, ocsp, events);
  return { cas, crls, ocsp, events, revocations };
}

describe.each(['pglite', 'postgresql'] as const)('revocation on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let server: Server;
  let base: string;
  let a: ReturnType<typeof replica>;
  let b: ReturnType<typeof replica>;
  let config: ServerConfig;
  let caId: string;
  let issuingFile: string;
  let chainFile: string;
  let n = 0;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'revocation'));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const databaseUrl = (ds.options as { url?: string }).url;
    config = loadServerConfig({ CERTFLEET_DATA_DIR: join(dir, database), CERTFLEET_PUBLIC_URL: base, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
    const fleetCa = new FleetCaService(config, ds);
    await fleetCa.onModuleInit();
    const audit = new AuditService(ds);
    a = replica(config, ds, fleetCa, audit);
    // Replicas share a PostgreSQL database; embedded PGlite is one server process, so one replica.
    b = database === 'postgresql' ? replica(config, ds, fleetCa, audit) : a;
    await a.events.onApplicationBootstrap();
    if (b !== a) await b.events.onApplicationBootstrap();
    const handler = pkiHttpHandler({ ocsp: a.ocsp, crls: a.crls, cas: a.cas });
    server.on('request', (req, res) => handler(req, res, () => res.writeHead(404).end()));
    const ca = await a.cas.quickStart(`lab-${database}`, 'token:test');
    caId = ca.id;
    issuingFile = file(`issuing-${database}.pem`, ca.certificatePem!);
    chainFile = file(`chain-${database}.pem`, ca.certificatePem! + ca.rootPem!);
    file(`root-${database}.pem`, ca.rootPem!);
    await ds.getRepository(Agent).insert({ id: AGENT, hostname: 'web-01', hostFacts: {}, enrolledAt: new Date(), certificateSerial: '01', certificateNotAfter: new Date(Date.now() + 86_400_000) });
  });
  afterAll(async () => {
    await a?.events.onApplicationShutdown();
    if (b !== a) await b?.events.onApplicationShutdown();
    await new Promise((resolve) => server?.close(resolve));
    await close?.();
  });

  /** A certificate from the lab CA, as the jobs service would record it. */
  async function issue(managedCertificateId: string | null = null): Promise<{ serial: string; path: string }> {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const [answer] = await ds.transaction((m) =>
      a.cas.issueMany(m, [
        { caId, publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }), jobId: null, managedCertificateId, profile: { dnsNames: [`host${n}.example.test`], ipAddresses: [], validityDays: 30, usages: ['tls-server'] } },
      ]),
    );
    if (answer instanceof Error) throw answer;
    return { serial: answer.leaf.serialHex, path: file(`leaf-${database}-${n++}.pem`, answer.leaf.certificatePem) };
  }
  const ocspUrl = () => `${base}/pki/ocsp/${caId}`;
  const fetchCrl = async () => {
    const res = await fetch(`${base}/pki/crl/${caId}.crl`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pkix-crl');
    return file(`current-${database}.crl`, Buffer.from(await res.arrayBuffer()));
  };
  // "verify OK" (or the failure) goes to stderr: keep both.
  const crlText = (path: string) => {
    const r = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', path, '-CAfile', chainFile, '-verify', '-noout', '-text'], { cwd: dir, encoding: 'utf8' });
    return `${r.stderr}${r.stdout}`;
  };

  it('issues certificates whose AIA and CDP name this server, and answers good over OCSP (nonce checked, signature verified)', async () => {
    const leaf = await issue();
    expect(openssl('x509', '-in', leaf.path, '-noout', '-ocsp_uri').trim()).toBe(ocspUrl());
    expect(openssl('x509', '-in', leaf.path, '-noout', '-text')).toContain(`URI:${base}/pki/crl/${caId}.crl`);
    const out = await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-url', ocspUrl(), '-CAfile', chainFile);
    expect(out).toContain('Response verify OK');
    expect(out).toContain(`${leaf.path}: good`);
    expect(out).not.toMatch(/nonce/i); // openssl warns when the nonce does not match
  });

  it('revokes: OCSP answers revoked with the reason at once, and the new CRL lists it and verifies', async () => {
    const leaf = await issue();
    const crlBefore = crlText(await fetchCrl());
    const numberBefore = Number(/X509v3 CRL Number: \n\s+(\d+)/.exec(crlBefore)![1]);
    // Cached "good" first: the revocation must replace it.
    expect(await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-url', ocspUrl(), '-CAfile', chainFile, '-no_nonce')).toContain(': good');

    const outcome = await a.revocations.revoke(leaf.serial, 'keyCompromise', 'token:test');
    expect(outcome.revoked).toEqual([expect.objectContaining({ serial: leaf.serial, reason: 'keyCompromise', alreadyRevoked: false })]);
    expect(outcome.crls[0]).toEqual(expect.objectContaining({ issuingCaId: caId, crlNumber: String(numberBefore + 1) }));

    for (const nonce of [[], ['-no_nonce']]) {
      const out = await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-url', ocspUrl(), '-CAfile', chainFile, ...nonce);
      expect(out).toContain('Response verify OK');
      expect(out).toMatch(new RegExp(`${leaf.path}: revoked\\n[\\s\\S]*Reason: keyCompromise\\n[\\s\\S]*Revocation Time:`));
    }
    const text = crlText(await fetchCrl());
    expect(text).toContain('verify OK');
    expect(text).toContain(`X509v3 CRL Number: \n                ${numberBefore + 1}`);
    expect(text).toMatch(new RegExp(`Serial Number: ${leaf.serial.toUpperCase()}\\n\\s+Revocation Date: .*\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Key Compromise`));
    expect(text).toMatch(/Next Update: /);

    // Revoking again changes nothing and says so; a second replica serves the same CRL without making one.
    const again = await b.revocations.revoke(`00:${leaf.serial.match(/../g)!.join(':')}`, 'superseded', 'token:test');
    expect(again.revoked[0]).toEqual(expect.objectContaining({ serial: leaf.serial, reason: 'keyCompromise', alreadyRevoked: true }));
    expect(again.crls).toEqual([]);
    expect((await b.crls.current(caId)).crlNumber).toBe(String(numberBefore + 1));
    expect((await b.crls.publish(caId)).crlNumber).toBe(String(numberBefore + 1));
  });

  it('produces each CRL once when replicas race, and serves a revocation made on the other replica', async () => {
    const [x, y] = [await issue(), await issue()];
    const before = BigInt((await a.crls.current(caId)).crlNumber);
    await ds.transaction(async (m) => {
      // Recorded as another replica would, without publishing: both replicas then find it due.
      await a.crls.lockCrlRow(m, caId);
      await m.query(`UPDATE "issued_certificates" SET "revoked_at" = now(), "revocation_reason" = 'superseded', "revocation_seq" = nextval('revocation_seq') WHERE "serial" = ANY($1)`, [[x.serial, y.serial]]);
    });
    const results = await Promise.all([a.crls.publish(caId), b.crls.publish(caId), a.crls.refreshDue(), b.crls.refreshDue()]);
    const numbers = new Set(results.slice(0, 2).map((r) => (r as { crlNumber: string }).crlNumber));
    expect([...numbers]).toEqual([String(before + 1n)]);
    const text = crlText(await fetchCrl());
    for (const s of [x.serial, y.serial]) expect(text).toContain(`Serial Number: ${s.toUpperCase()}`);
    expect(text).toContain('Superseded');
  });

  it('after a restart serves a CRL with every revocation, numbered above the last one', async () => {
    const x = await issue();
    await a.revocations.revoke(x.serial, 'cessationOfOperation', 'token:test');
    const before = await a.crls.current(caId);
    const restarted = new CrlPublisher(config, ds, a.cas);
    const after = await restarted.current(caId);
    // PostgreSQL replicas read the stored CRL; PGlite keeps CRL bytes in memory, so it signs anew.
    expect(BigInt(after.crlNumber)).toBe(database === 'postgresql' ? BigInt(before.crlNumber) : BigInt(before.crlNumber) + 1n);
    expect(after.entries).toBe(before.entries);
    writeFileSync(join(dir, `restart-${database}.crl`), after.der);
    const text = openssl('crl', '-inform', 'DER', '-in', `restart-${database}.crl`, '-noout', '-text');
    expect(text).toContain(`Serial Number: ${x.serial.toUpperCase()}`);
  });

  it('answers unknown for a serial it never issued, unauthorized for another CA, and GET requests too', async () => {
    const unknown = await ocspCli('-issuer', issuingFile, '-serial', '0x0123456789abcdef', '-url', ocspUrl(), '-CAfile', chainFile);
    expect(unknown).toContain('Response verify OK');
    expect(unknown).toContain('0x0123456789abcdef: unknown');
    // A CA this server does not run: a self-signed one made by openssl.
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-subj', '/CN=Other CA', '-days', '2');
    expect(await ocspCli('-issuer', file('other.pem'), '-serial', '0x01', '-url', ocspUrl())).toMatch(/Responder Error: unauthorized \(6\)/);

    const leaf = await issue();
    await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-no_nonce', '-reqout', file('get-req.der'));
    const b64 = readFileSync(file('get-req.der')).toString('base64');
    for (const path of [`/pki/ocsp/${caId}/${encodeURIComponent(b64)}`, `/pki/ocsp/${b64}`]) {
      const res = await fetch(base + path);
      expect(res.headers.get('content-type')).toBe('application/ocsp-response');
      file('get-resp.der', Buffer.from(await res.arrayBuffer()));
      const out = await ocspCli('-respin', file('get-resp.der'), '-issuer', issuingFile, '-cert', leaf.path, '-CAfile', chainFile);
      expect(out).toContain('Response verify OK');
      expect(out).toContain(': good');
    }
    const caCert = await fetch(`${base}/pki/ca/${caId}.crt`);
    expect(new X509Certificate(Buffer.from(await caCert.arrayBuffer())).toString()).toBe(new X509Certificate(readFileSync(issuingFile)).toString());
  });

  it('signs for a P-384 issuing CA through a delegated P-256 responder certificate that openssl accepts', async () => {
    const root = await createRootCa({ commonName: `P-384 Root ${database}` });
    const pending = await a.cas.create(`p384-${database}`, 'P-384', 'token:test');
    const ca = await a.cas.importCertificate(pending.id, await signIntermediate(root, pending.csrPem!), root.certificatePem, 'token:test');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const [answer] = await ds.transaction((m) =>
      a.cas.issueMany(m, [{ caId: ca.id, publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }), jobId: null, managedCertificateId: null, profile: { dnsNames: ['p384.example.test'], ipAddresses: [], validityDays: 30, usages: ['tls-server'] } }]),
    );
    if (answer instanceof Error) throw answer;
    const leaf = file(`p384-leaf-${database}.pem`, answer.leaf.certificatePem);
    const issuer = file(`p384-ca-${database}.pem`, ca.certificatePem!);
    const chain = file(`p384-chain-${database}.pem`, ca.certificatePem! + root.certificatePem);
    a.ocsp.reloadCas();
    const out = await ocspCli('-issuer', issuer, '-cert', leaf, '-url', `${base}/pki/ocsp`, '-CAfile', chain, '-resp_text');
    expect(out).toContain('Response verify OK');
    expect(out).toContain(`${leaf}: good`);
    expect(out).toMatch(/CN ?= ?p384-\S+ OCSP responder/);
    expect(out).toContain('OCSP Signing');
    expect(out).toContain('OCSP No Check');
  });

  it('answers malformed and oversized requests with malformedRequest and keeps serving', async () => {
    const post = async (body: Buffer) => {
      const res = await fetch(`${base}/pki/ocsp/${caId}`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
      expect(res.status).toBe(200);
      return file('bad-resp.der', Buffer.from(await res.arrayBuffer()));
    };
    for (const body of [Buffer.from('not an OCSP request'), Buffer.alloc(0), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(1024 * 1024, 0x30)]) {
      expect(await ocspCli('-respin', await post(body), '-noverify')).toContain('Responder Error: malformedrequest (1)');
    }
    const res = await fetch(`${base}/pki/ocsp/${caId}/%%%not-base64`);
    file('bad-get.der', Buffer.from(await res.arrayBuffer()));
    expect(await ocspCli('-respin', file('bad-get.der'), '-noverify')).toContain('Responder Error: malformedrequest (1)');
    const leaf = await issue();
    expect(await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-url', ocspUrl(), '-CAfile', chainFile)).toContain(': good');
    expect((await fetch(`${base}/pki/crl/not-a-ca.crl`)).status).toBe(404);
  });

  it('refuses bad targets and reasons without changing anything', async () => {
    await expect(a.revocations.revoke('abcdef0123', 'keyCompromise', 'token:test')).rejects.toThrow(/was issued by a certfleet CA/);
    await expect(a.revocations.revoke('not hex!', 'keyCompromise', 'token:test')).rejects.toThrow(/neither a hex serial/);
    const leaf = await issue();
    await expect(a.revocations.revoke(leaf.serial, 'certificateHold', 'token:test')).rejects.toThrow(/reason must be one of/);
    await expect(a.revocations.revoke(leaf.serial, 'bogus', 'token:test')).rejects.toThrow(/reason must be one of/);
    expect(await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-url', ocspUrl(), '-CAfile', chainFile)).toContain(': good');
    expect(normalizeSerial('00:AB:cd')).toBe('abcd');
    expect(normalizeSerial('0x12')).toBeNull();
  });

  it('with replace, schedules a replacement job ahead of ordinary renewals', async () => {
    const managed = new ManagedCertificatesService(loadServerConfig({ CERTFLEET_DATA_DIR: join(dir, database) }), ds, a.cas, new AuditService(ds));
    const jobs = new JobsService(loadServerConfig({ CERTFLEET_DATA_DIR: join(dir, database) }), ds, a.cas, managed, new AuditService(ds));
    const create = (name: string) =>
      managed.create({ name, agentId: AGENT, issuer: caId, profile: { dnsNames: [`${name}.example.test`], ipAddresses: [], validityDays: 30 }, targets: [{ kind: 'fullchain-pem', path: `/srv/${name}/f.pem`, keyPath: `/srv/${name}/k.pem` }] }, 'token:test');
    const [ordinary, held] = [await create(`ordinary-${database}`), await create(`held-${database}`)];
    const leaf = await issue(held.id);
    await ds.getRepository(ManagedCertificate).update({ id: held.id }, { status: 'active', currentSerial: leaf.serial, nextRenewalAt: new Date(Date.now() + 86_400_000) });
    // The ordinary one has been due for an hour; the replacement still goes first.
    await ds.getRepository(ManagedCertificate).update({ id: ordinary.id }, { nextRenewalAt: new Date(Date.now() - 3_600_000) });

    const outcome = await a.revocations.revoke(held.id, 'keyCompromise', 'token:test', { replace: true });
    expect(outcome.revoked[0].serial).toBe(leaf.serial);
    expect(outcome.replacements).toEqual([expect.objectContaining({ managedCertificateId: held.id, agentId: AGENT })]);
    expect(await jobs.createDueJobs(new Date(), 1)).toBe(1);
    const [job] = await ds.getRepository(CertificateJob).find({ where: { managedCertificateId: held.id } });
    expect(job.reason).toBe('replace');
    expect(await ds.getRepository(CertificateJob).count({ where: { managedCertificateId: ordinary.id } })).toBe(0);
    expect((await ds.getRepository(ManagedCertificate).findOneByOrFail({ id: held.id })).replacementRequestedAt).toBeInstanceOf(Date);
  });

  it('drops cached OCSP answers on every replica when a certificate is revoked on one', async () => {
    const leaf = await issue();
    const handlerB = pkiHttpHandler({ ocsp: b.ocsp, crls: b.crls, cas: b.cas });
    const serverB = createServer((req, res) => handlerB(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => serverB.listen(0, '127.0.0.1', resolve));
    const urlB = `http://127.0.0.1:${(serverB.address() as AddressInfo).port}/pki/ocsp`;
    try {
      expect(await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-url', urlB, '-CAfile', chainFile, '-no_nonce')).toContain(': good');
      // PostgreSQL: revoked on replica a, b hears of it at commit (LISTEN/NOTIFY). Embedded PGlite
      // allows one server process only, so there the replica that revokes is the one asked.
      await (database === 'postgresql' ? a : b).revocations.revoke(leaf.serial, 'cessationOfOperation', 'token:test');
      let out = '';
      for (let i = 0; i < 40 && !out.includes(': revoked'); i++) {
        if (i) await new Promise((r) => setTimeout(r, 50));
        out = await ocspCli('-issuer', issuingFile, '-cert', leaf.path, '-url', urlB, '-CAfile', chainFile, '-no_nonce');
      }
      expect(out).toContain(': revoked');
      expect(out).toContain('Reason: cessationOfOperation');
    } finally {
      await new Promise((resolve) => serverB.close(resolve));
    }
  });
});
