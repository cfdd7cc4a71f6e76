import 'reflect-metadata';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { AgentFleet } from './support/agent-fleet';
import { cli, RunResult, ServerProcess, startServerProcess, testServerEnv, waitFor } from './support/processes';

jest.setTimeout(600_000);

const HOSTS = 50;
const OFFLINE = [3, 17, 29, 41, 48];

interface ManagedRow {
  id: string;
  name: string;
  agentId: string;
  status: string;
  currentSerial: string | null;
  lastError: string | null;
}

interface CaView {
  id: string;
  name: string;
  status: string;
  certificatePem: string | null;
  rootPem: string | null;
}

// A compromised issuing CA on a fleet of real agents: plan, run, offline hosts catching up, and
// the proof afterwards (files on every host, OCSP, CRL, the report), on both databases.
describe.each(['pglite', 'postgresql'] as const)('break-glass campaign over a compromised issuing CA on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-breakglass-${database}-`));
  let db: TestDatabase | undefined;
  let server: ServerProcess;
  let cliEnv: Record<string, string>;
  let token: string;
  let fleet: AgentFleet;
  let oldCa: CaView;
  const managedIds: string[] = [];
  const oldSerials = new Map<string, string>();

  const rest = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  async function succeed(args: string[]): Promise<RunResult> {
    const r = await cli(args, cliEnv);
    if (r.code !== 0) throw new Error(`certfleet ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    return r;
  }
  const ocsp = (...args: string[]): Promise<string> =>
    new Promise((resolve) => execFile('openssl', ['ocsp', ...args], { cwd: work, encoding: 'utf8', timeout: 30_000 }, (_e, out, err) => resolve(`${out}${err}`)));

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) {
      console.log(`server output:\n${server?.output().slice(-4000)}\nagent errors: ${fleet?.problems.slice(-10).join('\n')}`);
    }
  });

  beforeAll(async () => {
    if (database === 'postgresql') db = await createTestDatabase('breakglass');
    server = await startServerProcess(await testServerEnv(work, db?.url, { CERTFLEET_SCHEDULER_SECONDS: '1' }));
    token = readFileSync(join(work, 'server', 'admin-token'), 'utf8').trim();
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    oldCa = await rest<CaView>('POST', '/api/v1/issuing-cas/quick-start', { name: `bg-${database}` });
    const tokens: string[] = [];
    for (let i = 0; i < HOSTS; i++) tokens.push((await rest<{ token: string }>('POST', '/api/v1/enrollment-tokens', { ttlSeconds: 3600, description: 'break-glass e2e' })).token);
    fleet = new AgentFleet(work);
    await fleet.enrollAll(`127.0.0.1:${server.grpcPort}`, server.fingerprint, tokens);
    for (const host of fleet.hosts) {
      const body = {
        name: `bg-${host.index}`,
        agentId: host.agentId,
        issuer: oldCa.id,
        profile: { dnsNames: [`h${host.index}.bg.test`], validityDays: 30 },
        targets: [{ kind: 'fullchain-pem', path: join(host.hostDir, 'fullchain.pem'), keyPath: join(host.hostDir, 'key.pem') }],
      };
      managedIds.push((await rest<ManagedRow>('POST', '/api/v1/managed-certificates', body)).id);
    }
    const rows = await waitFor(
      () => rest<ManagedRow[]>('GET', '/api/v1/managed-certificates'),
      (rows) => rows.filter((r) => r.status === 'active' && r.currentSerial).length === HOSTS,
      180_000,
      'first issuance on every host',
    );
    for (const r of rows) oldSerials.set(r.id, r.currentSerial!);
  });

  afterAll(async () => {
    fleet?.stopAll();
    if (server) await server.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('plans without changing anything: every host, every certificate of the CA', async () => {
    const plan = JSON.parse((await succeed(['breakglass', 'plan', '--issuer', oldCa.name, '--json'])).stdout) as { toRevoke: number; replace: unknown[]; manual: unknown[]; hosts: unknown[]; compromisedCa: { id: string } };
    expect(plan.compromisedCa.id).toBe(oldCa.id);
    expect(plan.toRevoke).toBe(HOSTS);
    expect(plan.replace).toHaveLength(HOSTS);
    expect(plan.manual).toHaveLength(0);
    expect(plan.hosts).toHaveLength(HOSTS);
    const text = (await succeed(['breakglass', 'plan', '--issuer', oldCa.name])).stdout;
    expect(text).toContain('DRY RUN: nothing was changed.');
    expect(text).toContain(`issuing CA "${oldCa.name}" would be replaced`);
    expect((await rest<CaView>('GET', `/api/v1/issuing-cas/${oldCa.id}`)).status).toBe('active');
    // Without --confirm nothing runs.
    const refused = await cli(['breakglass', 'run', '--issuer', oldCa.name], cliEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--confirm');
  });

  it('rotates the CA, revokes, replaces on every online host, and the offline hosts catch up when they return', async () => {
    for (const i of OFFLINE) fleet.stop(i);
    const started = Date.now();
    const run = await succeed(['breakglass', 'run', '--issuer', oldCa.name, '--confirm', '--concurrency', '20']);
    const campaignId = /campaign ([0-9a-f-]{36}) running/.exec(run.stdout)?.[1];
    expect(campaignId).toBeDefined();
    expect(run.stdout).toContain(`"${oldCa.name}" is revoked`);
    expect(run.stdout).toContain(`${HOSTS} certificate(s) revoked`);

    type Progress = { campaign: { status: string; replacementCaId: string }; counts: { validated: number; pending: number; replacing: number }; percent: number; pendingHosts: { hostname: string }[] };
    const status = (): Promise<Progress> => rest<Progress>('GET', `/api/v1/breakglass/campaigns/${campaignId}`);
    // Every online host is done; the offline ones wait (their jobs are queued for them).
    const partial = await waitFor(status, (p) => p.counts.validated === HOSTS - OFFLINE.length, 240_000, 'online hosts replaced');
    expect(partial.campaign.status).toBe('running');
    expect(partial.counts.replacing + partial.counts.pending).toBe(OFFLINE.length);
    const shown = (await succeed(['breakglass', 'status', campaignId!])).stdout;
    expect(shown).toMatch(/\[#+\.*\] 90%/);
    expect(shown).toContain(`validated ${HOSTS - OFFLINE.length}`);

    for (const i of OFFLINE) fleet.start(i);
    const done = await waitFor(status, (p) => p.campaign.status === 'completed', 240_000, 'campaign completed after the offline hosts returned');
    expect(done.percent).toBe(100);
    expect(done.counts.validated).toBe(HOSTS);
    const report = (await succeed(['breakglass', 'report', campaignId!])).stdout;
    expect(report).toContain('time to 100%');
    expect(report.match(/ validated /g)?.length).toBe(HOSTS);
    expect(Date.now() - started).toBeLessThan(480_000);

    // The proof, independently of the server's word: every host's installed certificate chains to
    // the root through the new CA, and is not any of the old serials.
    const newCa = await rest<CaView>('GET', `/api/v1/issuing-cas/${done.campaign.replacementCaId}`);
    expect(newCa.status).toBe('active');
    expect((await rest<CaView>('GET', `/api/v1/issuing-cas/${oldCa.id}`)).status).toBe('revoked');
    const rootFile = join(work, 'root.pem');
    const newCaFile = join(work, 'new-ca.pem');
    writeFileSync(rootFile, oldCa.rootPem!);
    writeFileSync(newCaFile, newCa.certificatePem!);
    const old = new Set(oldSerials.values());
    for (const host of fleet.hosts) {
      const fullchain = join(host.hostDir, 'fullchain.pem');
      const verified = spawnSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', newCaFile, fullchain], { encoding: 'utf8' });
      expect(`${verified.stdout}${verified.stderr}`).toContain(`${fullchain}: OK`);
      const leaf = new X509Certificate(readFileSync(fullchain));
      expect(leaf.checkIssued(new X509Certificate(newCa.certificatePem!))).toBe(true);
      expect(old.has(leaf.serialNumber.toLowerCase())).toBe(false);
    }

    // The old certificates are revoked: OCSP says so with the reason, and the old CA's CRL lists all.
    const oldCaFile = join(work, 'old-ca.pem');
    writeFileSync(oldCaFile, oldCa.certificatePem!);
    writeFileSync(join(work, 'old-chain.pem'), oldCa.certificatePem! + oldCa.rootPem!);
    const [firstOld] = old;
    const answer = await ocsp('-issuer', oldCaFile, '-serial', `0x${firstOld}`, '-url', `${server.httpUrl}/pki/ocsp`, '-CAfile', join(work, 'old-chain.pem'));
    expect(answer).toContain('Response verify OK');
    expect(answer).toContain(': revoked');
    expect(answer).toContain('Reason: cACompromise');
    const crl = Buffer.from(await (await fetch(`${server.httpUrl}/pki/crl/${oldCa.id}.crl`)).arrayBuffer());
    writeFileSync(join(work, 'old.crl'), crl);
    const crlText = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', join(work, 'old.crl'), '-CAfile', join(work, 'old-chain.pem'), '-verify', '-noout', '-text'], { encoding: 'utf8' });
    expect(crlText.stderr).toContain('verify OK');
    for (const serial of old) expect(crlText.stdout).toContain(`Serial Number: ${serial.toUpperCase()}`);

    // The audit trail holds the whole story and still verifies.
    expect((await succeed(['audit', 'verify'])).stdout).toContain('audit trail intact');
    const audit = (await succeed(['audit', '--action', 'breakglass.*', '--json'])).stdout;
    for (const action of ['breakglass.created', 'breakglass.started', 'breakglass.completed']) expect(audit).toContain(action);
  });
});
