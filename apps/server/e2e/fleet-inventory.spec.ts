import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { keyOf, opensslInventory } from './support/openssl-oracle';
import { agentCommand, cli, ROOT, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

interface CertRow {
  path: string;
  fingerprintSha256: string;
  notAfter: string;
  status: string;
  hostname: string;
  agentId: string;
}

jest.setTimeout(300_000);

// The same journey on both databases: PGlite (the default) and a real PostgreSQL.
describe.each(['pglite', 'postgresql'] as const)('fleet inventory end to end on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-e2e-${database}-`));
  const corpus = join(work, 'corpus');
  const agentState = join(work, 'agent-state');
  let db: TestDatabase | undefined;
  let server: ServerProcess;
  let serverEnv: Record<string, string>;
  let agent: ReturnType<typeof startAgentProcess> | undefined;
  let cliEnv: Record<string, string>;

  const certs = async (args: string[] = []): Promise<CertRow[]> => {
    const r = await cli(['certs', '--json', '--limit', '10000', ...args], cliEnv);
    if (r.code !== 0) throw new Error(`certfleet certs failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { items: CertRow[] }).items;
  };
  const inventoryKeys = async () => new Set((await certs()).map(keyOf));
  // On failure, show what the agent said: it is the first place to look.
  afterEach(() => {
    const state = expect.getState();
    if (agent && state.assertionCalls !== state.numPassingAsserts) console.log(`agent output:\n${agent.output().slice(-4000)}`);
  });

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, '../shared/tools/cert-corpus.sh'), '120', corpus], { stdio: 'ignore' });
    if (database === 'postgresql') db = await createTestDatabase('fleet_e2e');
    serverEnv = await testServerEnv(work, db?.url);
    server = await startServerProcess(serverEnv);
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
  });

  afterAll(async () => {
    if (agent) await stopProcess(agent.child);
    if (server) await server.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
    rmSync(`${corpus}.manifest.json`, { force: true });
  });

  it('first start creates the fleet CA, a 0600 admin token file and serves OpenAPI', async () => {
    expect(server.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(statSync(join(work, 'server', 'admin-token')).mode & 0o777).toBe(0o600);
    const docs = (await fetch(`${server.httpUrl}/docs/openapi.json`).then((r) => r.json())) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/api/v1/certificates', '/api/v1/agents', '/api/v1/enrollment-tokens']));
    expect((await fetch(`${server.httpUrl}/api/v1/agents`)).status).toBe(401);
  });

  it('enrolls an agent with a one-time token and reports inventory that matches openssl', async () => {
    const token = await cli(['token', 'create', '--ttl', '1h'], cliEnv);
    expect(token.code).toBe(0);
    const enrollArgs = ['enroll', '--server', `localhost:${server.grpcPort}`, '--token', token.stdout.trim(), '--ca-fingerprint', server.fingerprint];
    const enrolled = await agentCommand([...enrollArgs, '--state-dir', agentState]);
    expect(enrolled.stderr).toBe('');
    expect(enrolled.stdout).toMatch(/enrolled as agent [0-9a-f-]{36}/);
    expect(statSync(agentState).mode & 0o777).toBe(0o700);
    expect(statSync(join(agentState, 'agent-key.pem')).mode & 0o777).toBe(0o600);

    const reused = await agentCommand([...enrollArgs, '--state-dir', join(work, 'second-agent')]);
    expect(reused.code).not.toBe(0);
    expect(reused.stderr).toContain('already used');

    agent = startAgentProcess(['--state-dir', agentState, '--scan-root', corpus, '--scan-interval', '2', '--password', 'changeit']);
    const expected = new Set(opensslInventory(corpus, 'changeit').map(keyOf));
    expect(expected.size).toBeGreaterThan(120);
    const got = await waitFor(inventoryKeys, (s) => s.size >= expected.size, 60_000, 'the inventory to arrive');
    expect([...got].sort()).toEqual([...expected].sort());

    const agents = JSON.parse((await cli(['agents', '--json'], cliEnv)).stdout);
    expect(agents).toHaveLength(1);
    expect(agents[0]).toMatchObject({ online: true, certificates: expected.size });
    expect(agents[0].problems).toBeGreaterThan(0); // the corpus holds garbage and truncated files
    expect(agents[0].labels).toEqual({});
    expect((await cli(['agents', 'label', agents[0].hostname, 'env=prod', 'team=web'], cliEnv)).stdout).toContain('env=prod team=web');
    expect(JSON.parse((await cli(['agents', '--json'], cliEnv)).stdout)[0].labels).toEqual({ env: 'prod', team: 'web' });
    const listed = (await cli(['agents'], cliEnv)).stdout;
    expect(listed).toMatch(/LABELS/);
    expect(listed).toContain('env=prod team=web');
  });

  it('filters by expiry window and status the way the thresholds say', async () => {
    const all = await certs();
    const now = Date.now();
    const within30 = all.filter((c) => new Date(c.notAfter).getTime() <= now + 30 * 86_400_000);
    expect((await certs(['--expiring', '30d'])).length).toBe(within30.length);
    const expired = await certs(['--status', 'EXPIRED']);
    expect(expired.length).toBe(all.filter((c) => new Date(c.notAfter).getTime() <= now).length);
    expect(expired.every((c) => c.status === 'EXPIRED')).toBe(true);
    const issuer = await certs(['--issuer', 'Issuing CA RSA']);
    expect(issuer.length).toBeGreaterThan(0);
    expect(issuer.length).toBeLessThan(all.length);
  });

  it('picks up a changed file and a removed file on the next scan', async () => {
    const before = await certs();
    const pemFile = before.find((c) => c.path.endsWith('.crt') && !c.path.includes('-link'))!.path;
    const removed = before.find((c) => c.path.endsWith('.der') && !c.path.includes('-link'))!.path;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'k.pem'),
      '-subj', '/CN=replaced.example', '-days', '45', '-out', pemFile], { stdio: 'ignore' });
    unlinkSync(removed);
    const expected = new Set(opensslInventory(corpus, 'changeit').map(keyOf));
    const got = await waitFor(
      inventoryKeys,
      (s) => s.size === expected.size && [...expected].every((k) => s.has(k)),
      30_000,
      'the change and the removal',
    );
    expect([...got].sort()).toEqual([...expected].sort());
    expect([...got].some((k) => k.startsWith(`${removed}|`))).toBe(false);
    expect([...got].filter((k) => k.startsWith(`${pemFile}|`))).toHaveLength(1);
  });

  it('queues reports while the server is down and delivers them when it comes back', async () => {
    const mark = agent!.output().length;
    await server.stop();
    const extra = join(corpus, 'while-down.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'k2.pem'),
      '-subj', '/CN=while-down.example', '-days', '20', '-out', extra], { stdio: 'ignore' });
    await waitFor(async () => agent!.output().slice(mark), (o) => /disconnected[\s\S]*scan: .* [1-9]\d* report\(s\) to send/.test(o), 20_000, 'a scan while the server is down');
    server = await startServerProcess(serverEnv);
    const expected = new Set(opensslInventory(corpus, 'changeit').map(keyOf));
    const got = await waitFor(inventoryKeys, (s) => [...expected].every((k) => s.has(k)) && s.size === expected.size, 60_000, 'the queued report');
    expect([...got].sort()).toEqual([...expected].sort());
    const row = (await certs()).find((c) => c.path === extra)!;
    expect(row.status).toBe('WARNING');
    expect(readFileSync(join(agentState, 'identity.json'), 'utf8')).toContain(row.agentId);
  });
});
