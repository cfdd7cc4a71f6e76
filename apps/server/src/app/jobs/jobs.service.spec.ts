import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { JobOutcome, type ServerMessage } from '@certfleet/proto';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { Agent } from '../agents/agent.entity';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { InventoryItem } from '../inventory/inventory-item.entity';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { PkiUrls } from '../issuing-cas/pki-urls';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { ManagedCertificatesService } from '../managed/managed-certificates.service';
import { CertificateJob } from './certificate-job.entity';
import { JobsService } from './jobs.service';
import { PolicyService } from '../policy/policy.service';
import { RenewalScheduler } from './renewal-scheduler';

jest.setTimeout(120_000);

const AGENT = '22222222-2222-4222-8222-222222222222';
const dir = mkdtempSync(join(tmpdir(), 'cf-jobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A key and CSR made by real openssl, as any client might send. */
function opensslCsr(newkey: string[], sans: string): string {
  const base = join(dir, `req${n++}`);
  execFileSync('openssl', ['req', '-new', ...newkey, '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', '/CN=ignored', '-addext', `subjectAltName=${sans}`], { stdio: 'pipe' });
  return readFileSync(`${base}.csr`, 'utf8');
}
const p256 = (sans = 'DNS:www.example.test,IP:10.0.0.5') => opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], sans);

describe.each(['pglite', 'postgresql'] as const)('certificate jobs on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let jobs: JobsService;
  let managed: ManagedCertificatesService;
  let cas: IssuingCasService;
  let audit: AuditService;
  let config: ReturnType<typeof loadServerConfig>;
  const sent: { agentId: string; message: ServerMessage }[] = [];

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'jobs'));
    config = loadServerConfig({ CERTFLEET_DATA_DIR: join(dir, database) });
    const fleetCa = new FleetCaService(config, ds);
    await fleetCa.onModuleInit();
    audit = new AuditService(ds);
    cas = new IssuingCasService(config, ds, fleetCa, audit, new PkiUrls(config));
    managed = new ManagedCertificatesService(config, ds, cas, audit);
    jobs = new JobsService(config, ds, cas, managed, audit);
    // The session registry's side of delivery: what would go down each agent's stream.
    jobs.attachDelivery({ send: (agentId, message) => (sent.push({ agentId, message }), true) });
    await ds.getRepository(Agent).insert({ id: AGENT, hostname: 'web-01', hostFacts: {}, enrolledAt: new Date(), certificateSerial: '01', certificateNotAfter: new Date(Date.now() + 86_400_000) });
    await cas.quickStart('lab', 'token:test');
  });
  afterAll(() => close?.());

  async function newManaged(name: string, extra: Record<string, unknown> = {}) {
    return managed.create(
      { name, agentId: AGENT, issuer: 'lab', profile: { dnsNames: ['www.example.test'], ipAddresses: ['10.0.0.5'], validityDays: 30 }, targets: [{ kind: 'fullchain-pem', path: `/srv/${name}/fullchain.pem`, keyPath: `/srv/${name}/key.pem` }], ...extra },
      'token:test',
    );
  }
  async function openJob(managedId: string): Promise<CertificateJob> {
    await jobs.createDueJobs();
    return ds.getRepository(CertificateJob).findOneOrFail({ where: { managedCertificateId: managedId, state: 'queued' } });
  }
  const issuedCount = async (managedId: string) => ds.getRepository(IssuedCertificate).count({ where: { managedCertificateId: managedId } });

  it('opens one job for a due certificate, sends it, signs the CSR once and settles on the result', async () => {
    const mc = await newManaged('site-a');
    await Promise.all([jobs.createDueJobs(), jobs.createDueJobs(), jobs.createDueJobs()]);
    const open = await ds.getRepository(CertificateJob).find({ where: { managedCertificateId: mc.id } });
    expect(open).toHaveLength(1);
    const job = open[0];
    const delivered = sent.filter((s) => s.message.payload?.$case === 'job' && s.message.payload.value.jobId === job.id);
    expect(delivered).toHaveLength(1);
    expect(delivered[0].agentId).toBe(AGENT);

    const csr = p256();
    const answers = await Promise.all([1, 2, 3, 4].map(() => jobs.handleCsr(AGENT, { jobId: job.id, csrPem: csr })));
    const pems = answers.map((a) => (a.payload?.$case === 'jobCertificate' ? a.payload.value.certificatePem : `rejected: ${JSON.stringify(a.payload)}`));
    expect(new Set(pems).size).toBe(1);
    expect(await issuedCount(mc.id)).toBe(1);
    const cert = answers[0].payload?.$case === 'jobCertificate' ? answers[0].payload.value : undefined;
    writeFileSync(join(dir, 'root.pem'), cert!.rootPem);
    writeFileSync(join(dir, 'chain.pem'), cert!.chainPem);
    writeFileSync(join(dir, 'leaf.pem'), cert!.certificatePem);
    expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'chain.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' })).toContain('OK');
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
    expect(text).toContain('DNS:www.example.test');
    expect(text).toContain('IP Address:10.0.0.5');

    // A CSR for another key on the same job gets nothing new.
    const other = await jobs.handleCsr(AGENT, { jobId: job.id, csrPem: p256() });
    expect(other.payload?.$case).toBe('jobRejected');
    expect(await issuedCount(mc.id)).toBe(1);
    // Another agent cannot use the job.
    expect((await jobs.handleCsr('33333333-3333-4333-8333-333333333333', { jobId: job.id, csrPem: csr })).payload?.$case).toBe('jobRejected');

    const result = { jobId: job.id, outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, stage: 'done', error: '', installedSerial: '', durationMs: 120 };
    await jobs.handleResult(AGENT, result);
    await jobs.handleResult(AGENT, { ...result, outcome: JobOutcome.JOB_OUTCOME_FAILED, error: 'replayed, must change nothing' });
    const after = await ds.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } });
    const issued = await ds.getRepository(IssuedCertificate).findOneOrFail({ where: { managedCertificateId: mc.id } });
    expect(after).toMatchObject({ status: 'active', currentSerial: issued.serial, failureCount: 0, lastError: null });
    const life = issued.notAfter.getTime() - issued.notBefore.getTime();
    const at = (after.nextRenewalAt!.getTime() - issued.notBefore.getTime()) / life;
    expect(at).toBeGreaterThan(2 / 3 - 1 / 20 - 0.001);
    expect(at).toBeLessThanOrEqual(2 / 3 + 0.001);
    expect((await ds.getRepository(CertificateJob).findOneOrFail({ where: { id: job.id } })).state).toBe('succeeded');
    // The job is closed: its CSR is not signed again.
    expect((await jobs.handleCsr(AGENT, { jobId: job.id, csrPem: csr })).payload?.$case).toBe('jobRejected');
    const trail = (await audit.list({ subjectType: 'managed-certificate', subjectId: mc.id })).map((e) => e.action);
    expect(trail).toEqual(['managed.created', 'certificate.issued', 'managed.renewed']);
  });

  it.each([
    ['wrong SANs', () => p256('DNS:www.example.test,DNS:evil.example.test,IP:10.0.0.5'), /san/i],
    ['a weak RSA-1024 key', () => opensslCsr(['-newkey', 'rsa:1024'], 'DNS:www.example.test,IP:10.0.0.5'), /rsa|key/i],
    ['the wrong curve', () => opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'DNS:www.example.test,IP:10.0.0.5'), /curve|key/i],
  ])('refuses a CSR with %s, with reasons, and issues nothing', async (label, csr, reason) => {
    const mc = await newManaged(`policy-${label.replace(/\W+/g, '-')}`);
    const job = await openJob(mc.id);
    const answer = await jobs.handleCsr(AGENT, { jobId: job.id, csrPem: csr() });
    expect(answer.payload?.$case).toBe('jobRejected');
    const reasons = answer.payload?.$case === 'jobRejected' ? answer.payload.value.reasons : [];
    expect(reasons.join(' ')).toMatch(reason);
    expect(await issuedCount(mc.id)).toBe(0);
    const row = await ds.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } });
    expect(row.failureCount).toBe(1);
    expect(row.lastError).toMatch(reason);
    // Retried with backoff: about a minute later, not at once.
    expect(row.nextRenewalAt!.getTime() - Date.now()).toBeGreaterThan(40_000);
    expect(row.nextRenewalAt!.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    expect((await ds.getRepository(CertificateJob).findOneOrFail({ where: { id: job.id } })).state).toBe('failed');
  });

  it('signs concurrent CSRs together and answers each as if it came alone', async () => {
    const mcs = await Promise.all(['batch-1', 'batch-2', 'batch-3', 'batch-bad-san', 'batch-foreign', 'batch-no-issuer'].map((name) => newManaged(name)));
    const unsignable = await cas.create(`pending-${database}`, 'P-256', 'token:test');
    await ds.getRepository(ManagedCertificate).update({ id: mcs[5].id }, { issuingCaId: unsignable.id });
    await jobs.createDueJobs();
    const job = await Promise.all(mcs.map((mc) => ds.getRepository(CertificateJob).findOneOrFail({ where: { managedCertificateId: mc.id, state: 'queued' } })));
    const csr1 = p256();
    const requests: Array<[string, string, string]> = [
      [AGENT, job[0].id, csr1],
      [AGENT, job[0].id, csr1], // the same CSR twice in one batch: one certificate, both get it
      [AGENT, job[0].id, p256()], // another key for the same job: nothing
      [AGENT, job[1].id, p256()],
      [AGENT, job[2].id, p256()],
      [AGENT, job[3].id, p256('DNS:www.example.test,DNS:evil.example.test,IP:10.0.0.5')],
      ['33333333-3333-4333-8333-333333333333', job[4].id, p256()],
      [AGENT, job[5].id, p256()],
      [AGENT, 'not-a-job-id', p256()],
    ];
    const answers = await Promise.all(requests.map(([agentId, jobId, csrPem]) => jobs.handleCsr(agentId, { jobId, csrPem })));
    const kind = answers.map((a) => a.payload?.$case);
    expect(kind).toEqual(['jobCertificate', 'jobCertificate', 'jobRejected', 'jobCertificate', 'jobCertificate', 'jobRejected', 'jobRejected', 'jobRejected', 'jobRejected']);
    const pem = (i: number) => (answers[i].payload?.$case === 'jobCertificate' ? answers[i].payload.value.certificatePem : '');
    expect(pem(0)).toBe(pem(1));
    const reasons = (i: number) => (answers[i].payload?.$case === 'jobRejected' ? answers[i].payload.value.reasons.join(' ') : '');
    expect(reasons(2)).toMatch(/another key/);
    expect(reasons(5)).toMatch(/san/i);
    expect(reasons(6)).toMatch(/no such job for this agent/);
    expect(reasons(7)).toMatch(/pending.*cannot sign/);
    expect(reasons(8)).toMatch(/no such job/);

    expect(await Promise.all(mcs.map((mc) => issuedCount(mc.id)))).toEqual([1, 1, 1, 0, 0, 0]);
    const states = await Promise.all(job.map((j) => ds.getRepository(CertificateJob).findOneOrFail({ where: { id: j.id } })));
    expect(states.map((s) => s.state)).toEqual(['issued', 'issued', 'issued', 'failed', 'queued', 'failed']);
    expect(states[5].stage).toBe('issuer');
    // Signed in one transaction: the three issuance events were recorded together.
    const events = await audit.list({ action: 'certificate.issued', since: new Date(Date.now() - 60_000) });
    const ours = events.filter((e) => mcs.slice(0, 3).some((mc) => mc.id === e.subjectId));
    expect(ours).toHaveLength(3);
    expect(new Set(ours.map((e) => e.at.getTime())).size).toBe(1);

    // Concurrent results settle together, each once: duplicates and foreign results change nothing.
    const result = (jobId: string, outcome: JobOutcome) => ({ jobId, outcome, stage: outcome === JobOutcome.JOB_OUTCOME_SUCCEEDED ? 'done' : 'validate', error: outcome === JobOutcome.JOB_OUTCOME_SUCCEEDED ? '' : 'served the old certificate', installedSerial: '', durationMs: 50 });
    await Promise.all([
      jobs.handleResult(AGENT, result(job[0].id, JobOutcome.JOB_OUTCOME_SUCCEEDED)),
      jobs.handleResult(AGENT, result(job[0].id, JobOutcome.JOB_OUTCOME_FAILED)),
      jobs.handleResult(AGENT, result(job[1].id, JobOutcome.JOB_OUTCOME_ROLLED_BACK)),
      jobs.handleResult('33333333-3333-4333-8333-333333333333', result(job[2].id, JobOutcome.JOB_OUTCOME_FAILED)),
      jobs.handleResult(AGENT, result(job[2].id, JobOutcome.JOB_OUTCOME_SUCCEEDED)),
    ]);
    const settled = await Promise.all(job.slice(0, 3).map((j) => ds.getRepository(CertificateJob).findOneOrFail({ where: { id: j.id } })));
    expect(settled.map((j) => j.state)).toEqual(['succeeded', 'rolled_back', 'succeeded']);
    const rows = await Promise.all(mcs.slice(0, 3).map((mc) => ds.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } })));
    expect(rows.map((r) => [r.status, r.failureCount])).toEqual([['active', 0], ['pending', 1], ['active', 0]]);
    expect(rows[0].currentSerial).toBe(settled[0].issuedSerial);
    expect(rows[2].currentSerial).toBe(settled[2].issuedSerial);
    expect(rows[1].lastError).toBe('validate: served the old certificate');
    expect((await audit.verify()).ok).toBe(true);
  });

  it('shows a certificate as failing after repeated failures, and retries at once when an issuer comes back', async () => {
    const mc = await newManaged('flaky');
    for (let i = 1; i <= 3; i++) {
      await ds.getRepository(ManagedCertificate).update({ id: mc.id }, { nextRenewalAt: new Date() });
      const job = await openJob(mc.id);
      expect(job.attempt).toBe(i);
      await jobs.handleResult(AGENT, { jobId: job.id, outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'validate', error: 'served the old certificate', installedSerial: '', durationMs: 10 });
    }
    const row = await ds.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } });
    expect(row).toMatchObject({ status: 'failing', failureCount: 3, lastError: 'validate: served the old certificate' });
    expect(row.nextRenewalAt!.getTime() - Date.now()).toBeGreaterThan(3 * 60_000);

    const pending = await cas.create('second', 'P-256', 'token:test');
    await ds.getRepository(ManagedCertificate).update({ id: mc.id }, { issuingCaId: pending.id });
    const { createRootCa, signIntermediate } = await import('@certfleet/pki');
    const root = await createRootCa({ commonName: 'second root' });
    await cas.importCertificate(pending.id, await signIntermediate(root, pending.csrPem!), root.certificatePem, 'token:test');
    const retried = await ds.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } });
    expect(retried.nextRenewalAt!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('re-adopts a certificate replaced out of band instead of renewing it again', async () => {
    const mc = await newManaged('by-hand');
    const job = await openJob(mc.id);
    // Someone ran another tool: the file now holds a newer certificate from another CA.
    const key = join(dir, 'byhand.key');
    const crt = join(dir, 'byhand.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-days', '60', '-subj', '/CN=www.example.test', '-addext', 'subjectAltName=DNS:www.example.test,IP:10.0.0.5'], { stdio: 'pipe' });
    const fp = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1].trim().replace(/:/g, '').toLowerCase();
    const serial = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-serial'], { encoding: 'utf8' }).split('=')[1].trim().toLowerCase();
    const now = Date.now();
    await ds.getRepository(InventoryItem).insert({
      agentId: AGENT, itemKey: `cert:/srv/by-hand/fullchain.pem#0|${fp}`, kind: 'certificate', path: '/srv/by-hand/fullchain.pem', entry: '0', fingerprintSha256: fp,
      subject: 'CN=www.example.test', issuer: 'CN=www.example.test', serial, notBefore: new Date(now - 60_000), notAfter: new Date(now + 60 * 86_400_000),
      detail: { isCa: false, dnsNames: ['www.example.test'], ipAddresses: ['10.0.0.5'] }, der: null, seenSequence: '1', firstSeenAt: new Date(), updatedAt: new Date(),
    } as InventoryItem);
    expect(await managed.reconcileWithInventory(AGENT)).toBe(1);
    const row = await ds.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } });
    expect(row).toMatchObject({ status: 'active', currentFingerprint: fp, currentSerial: serial });
    expect(row.nextRenewalAt!.getTime()).toBeGreaterThan(now + 30 * 86_400_000);
    expect((await ds.getRepository(CertificateJob).findOneOrFail({ where: { id: job.id } })).state).toBe('cancelled');
    expect((await jobs.handleCsr(AGENT, { jobId: job.id, csrPem: p256() })).payload?.$case).toBe('jobRejected');
    expect(await issuedCount(mc.id)).toBe(0);
    // Seen again on the next report: nothing more happens.
    expect(await managed.reconcileWithInventory(AGENT)).toBe(0);
    expect((await audit.list({ subjectId: mc.id, action: 'managed.readopted' })).length).toBe(1);
  });

  it('wakes at the renewal time, not at the next polling interval', async () => {
    const mc = await newManaged('due-soon');
    await jobs.createDueJobs(); // anything due now is out of the way
    const dueAt = new Date(Date.now() + 1500);
    await ds.getRepository(CertificateJob).update({ managedCertificateId: mc.id }, { state: 'cancelled' });
    await ds.getRepository(ManagedCertificate).update({ id: mc.id }, { nextRenewalAt: dueAt });
    const scheduler = new RenewalScheduler({ ...config, renewal: { ...config.renewal, schedulerIntervalSeconds: 3600 } }, jobs);
    scheduler.onApplicationBootstrap();
    try {
      let job: CertificateJob | null = null;
      for (let i = 0; i < 100 && !job; i++) {
        await new Promise((r) => setTimeout(r, 50));
        job = await ds.getRepository(CertificateJob).findOne({ where: { managedCertificateId: mc.id, state: 'queued' } });
      }
      expect(job).not.toBeNull();
      expect(job!.dueAt.getTime()).toBe(dueAt.getTime());
      // Made at the due time (within the polling of this test), an hour before the interval would have.
      expect(job!.createdAt.getTime()).toBeGreaterThanOrEqual(dueAt.getTime() - 5);
      expect(job!.createdAt.getTime() - dueAt.getTime()).toBeLessThan(1000);
    } finally {
      scheduler.onApplicationShutdown();
    }
  });
  it('refuses a CSR that a blocking fleet policy rule forbids, with the rule named, and signs nothing', async () => {
    const policy = new PolicyService(ds, config, audit);
    const guarded = new JobsService(config, ds, cas, managed, audit, undefined, policy);
    guarded.attachDelivery({ send: (agentId, message) => (sent.push({ agentId, message }), true) });
    await policy.set({ name: 'short-lived', rules: [{ id: 'max-10-days', type: 'max-validity', days: 10, severity: 'critical', blockIssuance: true }] }, 'token:test');
    try {
      const mc = await newManaged('policy-blocked');
      const job = await openJob(mc.id);
      const answer = await guarded.handleCsr(AGENT, { jobId: job.id, csrPem: p256() });
      expect(answer.payload?.$case).toBe('jobRejected');
      const reasons = answer.payload?.$case === 'jobRejected' ? answer.payload.value.reasons.join('\n') : '';
      expect(reasons).toMatch(/policy max-10-days: .*30/);
      expect(await issuedCount(mc.id)).toBe(0);
      expect((await ds.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } })).lastError).toMatch(/max-10-days/);
    } finally {
      await policy.set({ preset: 'baseline' }, 'token:test');
    }
  });
});
