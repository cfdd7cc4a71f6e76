import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { CertMaker } from '../../../../../libs/policy/src/rules/openssl-cert-kit';
import { loadServerConfig, SERVER_CONFIG } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { AuditService } from '../audit/audit.service';
import { addAgent, addCertificates, inventoryRow } from '../policy/inventory-fixture';
import { PolicyService } from '../policy/policy.service';
import { ReportSources } from './report-sources';
import { writeReport } from './report-writer';
import { ReportsController } from './reports.controller';

jest.setTimeout(120_000);

const WEB1 = '11111111-1111-4111-8111-111111111111';
const EVIL = '22222222-2222-4222-8222-222222222222';
const config = loadServerConfig({ CERTFLEET_POLICY_PASS_SECONDS: '0' });

let maker: CertMaker;
const der: Record<string, Buffer> = {};
beforeAll(() => {
  maker = new CertMaker();
  const ca = maker.ca('/CN=Partner Root CA/O=Partner');
  der.root = readDer(ca.cert);
  der.weak = maker.make({ key: ['genrsa', '1024'], digest: 'sha1', subject: '/CN=old.example.com' });
  der.soon = maker.make({ ca, sans: ['DNS:soon.example.com'], days: 5 });
  der.later = maker.make({ ca, sans: ['DNS:later.example.com'], days: 200 });
  der.ed = maker.make({ key: ['-algorithm', 'ED25519'], sans: ['DNS:ed.example.com'], days: 60 });
});
afterAll(() => maker.remove());

function readDer(file: string): Buffer {
  const pem = require('node:fs').readFileSync(require('node:path').join(maker.dir, file), 'utf8') as string;
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** Parses CSV with python's csv module (a real RFC 4180 reader), strict. */
function parseCsv(text: string): string[][] {
  return JSON.parse(execFileSync('python3', ['-c', 'import csv,sys,json; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))'], { input: text, encoding: 'utf8' }));
}

describe.each(['pglite', 'postgresql'] as const)('reports on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let app: INestApplication;
  let base: string;
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'reports'));
    await addAgent(ds, WEB1, 'web-01');
    await addAgent(ds, EVIL, '=cmd|calc');
    await addCertificates(ds, [
      inventoryRow(WEB1, '/etc/ssl/certs/partner-root.pem', der.root),
      inventoryRow(EVIL, '/usr/share/ca/partner.pem', der.root),
      inventoryRow(WEB1, '/etc/ssl/old.pem', der.weak),
      inventoryRow(WEB1, '/etc/nginx/soon.pem', der.soon),
      inventoryRow(EVIL, '/srv/later.pem', der.later),
      inventoryRow(EVIL, '/srv/ed.pem', der.ed),
    ]);
    await new PolicyService(ds, config, new AuditService(ds)).runPass();
    @Module({ controllers: [ReportsController], providers: [{ provide: DataSource, useValue: ds }, { provide: SERVER_CONFIG, useValue: config }] })
    class ReportsOnly {}
    app = await NestFactory.create(ReportsOnly, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/api/v1/reports`;
  });
  afterAll(async () => {
    await app?.close();
    await close?.();
  });

  it('inventory as CSV: RFC 4180, one row per copy, formula cells defused', async () => {
    const { status, type, text } = await get('/inventory?format=csv');
    expect(status).toBe(200);
    expect(type).toContain('text/csv');
    const [header, ...rows] = parseCsv(text);
    expect(header.slice(0, 4)).toEqual(['host', 'path', 'entry', 'fingerprint_sha256']);
    expect(rows).toHaveLength(6);
    expect(rows.filter((r) => r[0] === "'=cmd|calc")).toHaveLength(3);
    expect(rows.some((r) => r[0].startsWith('='))).toBe(false);
    expect(rows.find((r) => r[1] === '/etc/ssl/old.pem')!.slice(11, 15)).toEqual(['RSA', '1024', '', 'sha1WithRSAEncryption']);
  });

  it('which certificates still use RSA-1024 or SHA-1', async () => {
    const rsa = JSON.parse((await get('/inventory?format=json&keyAlgorithm=RSA&keyBitsBelow=2048')).text);
    const sha1 = JSON.parse((await get('/inventory?format=json&signatureHash=sha1')).text);
    expect(rsa.map((r: { path: string }) => r.path)).toEqual(['/etc/ssl/old.pem']);
    expect(sha1.map((r: { path: string }) => r.path)).toEqual(['/etc/ssl/old.pem']);
  });

  it('what expires within 30 days, per copy and by owner', async () => {
    const rows = JSON.parse((await get('/expiring?format=json&days=30')).text);
    expect(rows.map((r: { path: string; status: string }) => `${r.path} ${r.status}`)).toEqual(['/etc/nginx/soon.pem CRITICAL']);
    const byOwner = parseCsv((await get('/expiring?format=csv&days=90&by=owner')).text);
    expect(byOwner[0]).toEqual(['owner', 'certificates', 'copies', 'expired', 'soonest_not_after']);
    expect(byOwner.slice(1).map((r) => r.slice(0, 4))).toEqual([['', '3', '3', '0']]);
  });

  it('violations: each finding on each copy', async () => {
    const rows = JSON.parse((await get('/violations?format=json')).text) as { path: string; rule: string }[];
    expect(rows.map((r) => `${r.path} ${r.rule}`).sort()).toEqual(['/etc/ssl/old.pem no-weak-signatures', '/etc/ssl/old.pem rsa-2048']);
  });

  it('crypto: algorithms in use by count, with quantum vulnerability', async () => {
    const rows = JSON.parse((await get('/crypto?format=json')).text) as { key_algorithm: string; certificates: number; quantum_vulnerable: boolean }[];
    const count = Object.fromEntries(rows.map((r) => [`${r.key_algorithm}`, (rows.filter((x) => x.key_algorithm === r.key_algorithm).reduce((n, x) => n + x.certificates, 0))]));
    expect(count).toEqual({ EC: 3, RSA: 1, Ed25519: 1 });
    expect(rows.every((r) => r.quantum_vulnerable)).toBe(true);
  });

  it('which hosts trust CA X, by subject or subject key identifier', async () => {
    const bySubject = JSON.parse((await get('/trust?format=json&ca=partner%20root')).text) as { host: string; subject_key_id: string }[];
    expect(bySubject.map((r) => r.host).sort()).toEqual(['=cmd|calc', 'web-01']);
    const bySki = JSON.parse((await get(`/trust?format=json&ca=${bySubject[0].subject_key_id.toUpperCase()}`)).text);
    expect(bySki).toHaveLength(2);
    expect(JSON.parse((await get('/trust?format=json&ca=Nobody')).text)).toEqual([]);
  });

  it('refuses bad requests with a clear message', async () => {
    expect(await get('/everything')).toMatchObject({ status: 400, text: expect.stringContaining('report must be one of inventory, expiring, violations, crypto, trust') });
    expect(await get('/inventory?format=xml')).toMatchObject({ status: 400, text: expect.stringContaining('format must be csv or json') });
    expect(await get('/trust')).toMatchObject({ status: 400, text: expect.stringContaining('the trust report needs ca') });
    expect(await get('/expiring?days=-1')).toMatchObject({ status: 400 });
  });

  it('streams across keyset batches into a slow reader without losing or repeating a row', async () => {
    const rows = Array.from({ length: 2_600 }, (_, i) => inventoryRow(WEB1, `/bulk/${String(i).padStart(5, '0')}.pem`, der.later, String(i)));
    await addCertificates(ds, rows);
    const chunks: string[] = [];
    let pending = 0;
    let maxPending = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        maxPending = Math.max(maxPending, ++pending);
        setTimeout(() => (pending--, done()), 2);
      },
    });
    const written = await writeReport(await new ReportSources(ds, config.expiry).source('inventory', {}), 'json', slow);
    const parsed = JSON.parse(chunks.join('')) as { path: string; entry: string }[];
    expect(written).toBe(2_606);
    expect(parsed).toHaveLength(2_606);
    expect(new Set(parsed.map((r) => `${r.path}#${r.entry}`)).size).toBe(2_606);
    expect(maxPending).toBe(1); // the writer waited for each drain
  });
});
