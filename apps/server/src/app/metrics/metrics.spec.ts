import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { CertMaker } from '../../../../../libs/policy/src/rules/openssl-cert-kit';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { addAgent, addCertificates, inventoryRow } from '../policy/inventory-fixture';
import { MetricsController } from './metrics.controller';
import { EXPIRY_SERIES_LIMIT } from './fleet-snapshot';
import { METRICS_SERVICE, MetricsService } from './metrics.service';

jest.setTimeout(120_000);

const WEB1 = '11111111-1111-4111-8111-111111111111';
const GONE = '33333333-3333-4333-8333-333333333333';
const RULES = join(__dirname, '../../../../../installers/prometheus/certfleet-alerts.rules.yml');
const DAY = 86_400_000;

let maker: CertMaker;
beforeAll(() => (maker = new CertMaker()));
afterAll(() => maker.remove());

/** A real HTTP server with the metrics controller over `ds`, like the full server mounts it. */
async function serve(ds: DataSource, connected: () => number): Promise<{ app: INestApplication; url: string }> {
  const service = new MetricsService(ds, loadServerConfig({ CERTFLEET_METRICS_CACHE_SECONDS: '3600' }), connected);
  @Module({ controllers: [MetricsController], providers: [{ provide: METRICS_SERVICE, useValue: service }] })
  class MetricsOnly {}
  const app = await NestFactory.create(MetricsOnly, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}/metrics` };
}

function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

it('the sample alerting rules pass promtool check rules', () => {
  expect(execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' })).toContain('SUCCESS: 6 rules found');
});

describe.each(['pglite', 'postgresql'] as const)('/metrics on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'metrics'));
    await addAgent(ds, WEB1, 'web-01');
    await addAgent(ds, GONE, 'gone-01', new Date(Date.now() - DAY));
    await addCertificates(ds, [
      inventoryRow(WEB1, '/etc/ssl/ok.pem', maker.make({ days: 90 })),
      inventoryRow(WEB1, '/etc/ssl/soon.pem', maker.make({ days: 3 })),
      inventoryRow(WEB1, '/etc/ssl/warn.pem', maker.make({ days: 20 })),
      inventoryRow(GONE, '/etc/ssl/old.pem', maker.make({ at: '2025-01-01', days: 30 })),
    ]);
    // More managed certificates than the expiry series bound; the soonest ones are kept.
    const values = Array.from({ length: EXPIRY_SERIES_LIMIT + 20 }, (_, i) => `('managed-${i}', '${WEB1}', '{}', '[]', '${i % 50 === 0 ? 'failing' : 'active'}', now() + interval '${i + 1} days')`);
    await ds.query(`INSERT INTO managed_certificates (name, agent_id, profile, targets, status, not_after) VALUES ${values.join(', ')}`);
    await ds.query(`INSERT INTO managed_certificates (name, agent_id, profile, targets, status, not_after) VALUES ('removed-one', '${WEB1}', '{}', '[]', 'removed', now())`);
    // At most one open job per managed certificate: one certificate each.
    for (const [i, state] of ['queued', 'queued', 'succeeded', 'failed', 'rolled_back'].entries()) {
      const [{ id }] = await ds.query(`SELECT id FROM managed_certificates WHERE name = $1`, [`managed-${i}`]);
      await ds.query(`INSERT INTO certificate_jobs (managed_certificate_id, agent_id, reason, state, attempt, due_at) VALUES ($1, $2, 'renew', $3, 1, now())`, [id, WEB1, state]);
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await close?.();
  });

  it('serves text that promtool check metrics accepts, with the fleet in it', async () => {
    const { app, url } = await serve(ds, () => 2);
    apps.push(app);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    // Express moves the charset parameter forward; the media type and version are what Prometheus reads.
    expect(response.headers.get('content-type')?.split(/;\s*/).sort()).toEqual(['charset=utf-8', 'text/plain', 'version=0.0.4']);
    const text = await response.text();
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
    expect(value(text, 'certfleet_certificates{status="ok"}')).toBe(1);
    expect(value(text, 'certfleet_certificates{status="warning"}')).toBe(1);
    expect(value(text, 'certfleet_certificates{status="critical"}')).toBe(1);
    expect(value(text, 'certfleet_certificates{status="expired"}')).toBe(1);
    expect(value(text, 'certfleet_agents_connected')).toBe(2);
    expect(value(text, 'certfleet_agents')).toBe(2);
    expect(value(text, 'certfleet_agents_offline')).toBe(1);
    expect(value(text, 'certfleet_jobs_queued')).toBe(2);
    expect(value(text, 'certfleet_renewal_jobs_total{result="succeeded"}')).toBe(1);
    expect(value(text, 'certfleet_renewal_jobs_total{result="failed"}')).toBe(1);
    expect(value(text, 'certfleet_managed_certificates{status="failing"}')).toBe(11);
    const expirySeries = text.split('\n').filter((l) => l.startsWith('certfleet_certificate_expiry_seconds{'));
    expect(expirySeries).toHaveLength(EXPIRY_SERIES_LIMIT);
    const first = value(text, 'certfleet_certificate_expiry_seconds{name="managed-0",agent="web-01"}')!;
    expect(Math.abs(first - 86_400)).toBeLessThan(600);
    expect(text).not.toContain('managed-519');
    expect(text).not.toContain('removed-one');
  });

  it('answers scrapes from its cache, and a second server in the same process keeps its own registry', async () => {
    const { app, url } = await serve(ds, () => 0);
    apps.push(app);
    const before = await (await fetch(url)).text();
    await ds.query(`INSERT INTO certificate_jobs (managed_certificate_id, agent_id, reason, state, attempt, due_at) SELECT managed_certificate_id, agent_id, reason, 'succeeded', 2, now() FROM certificate_jobs WHERE state = 'succeeded'`);
    const cached = await (await fetch(url)).text();
    expect(value(cached, 'certfleet_renewal_jobs_total{result="succeeded"}')).toBe(value(before, 'certfleet_renewal_jobs_total{result="succeeded"}'));
    expect(value(cached, 'certfleet_agents_connected')).toBe(0);
    // A fresh server (cold cache) reads the new total.
    const { app: third, url: thirdUrl } = await serve(ds, () => 0);
    apps.push(third);
    expect(value(await (await fetch(thirdUrl)).text(), 'certfleet_renewal_jobs_total{result="succeeded"}')).toBe(2);
  });
});
