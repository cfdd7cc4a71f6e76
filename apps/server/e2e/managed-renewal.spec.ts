// Managed certificates end to end: a real server and agent process, real nginx as the install
// target, openssl s_client as the judge. Renewal, rollback on a failing reload or validation, and
// convergence after SIGKILL of the agent (between write and reload) and of the server (between
// signing and delivery), on both databases.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { servedBy, TestNginx, waitUntilServed } from '../../agent/src/jobs/testing/tls-servers';
import { agentCommand, cli, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

jest.setTimeout(240_000);

const NAME = 'www.example.test';

interface ManagedView {
  id: string;
  status: string;
  currentSerial: string | null;
  failureCount: number;
  lastError: string | null;
  openJob: { id: string; state: string } | null;
  jobs: { id: string; state: string; stage: string | null; error: string | null; issuedSerial: string | null }[];
}

describe.each(['pglite', 'postgresql'] as const)('managed certificates with nginx on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-managed-${database}-`));
  const agentState = join(work, 'agent-state');
  let db: TestDatabase | undefined;
  let server: ServerProcess;
  let serverEnv: Record<string, string>;
  let agent: ReturnType<typeof startAgentProcess> | undefined;
  let cliEnv: Record<string, string>;
  const nginxes: TestNginx[] = [];
  let rootFile: string;
  let agentId: string;

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const token = readFileSync(join(work, 'server', 'admin-token'), 'utf8').trim();
    const res = await fetch(`${server.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const show = (id: string) => api<ManagedView>('GET', `/api/v1/managed-certificates/${id}`);
  const startAgent = () => (agent = startAgentProcess(['--state-dir', agentState, '--scan-root', join(work, 'sites'), '--scan-interval', '3600']));

  /** An nginx serving a self-signed "old" certificate from files the managed certificate will take over. */
  async function site(label: string): Promise<{ dir: string; nginx: TestNginx; oldSerial: string }> {
    const dir = join(work, 'sites', label);
    mkdirSync(dir, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'fullchain.pem'), '-days', '30', '-subj', `/CN=${NAME}`, '-addext', `subjectAltName=DNS:${NAME}`], { stdio: 'pipe' });
    const nginx = await TestNginx.start(join(work, 'nginx', label), { serverName: NAME, certificatePath: join(dir, 'fullchain.pem'), keyPath: join(dir, 'key.pem') });
    nginxes.push(nginx);
    const oldSerial = execFileSync('openssl', ['x509', '-in', join(dir, 'fullchain.pem'), '-noout', '-serial'], { encoding: 'utf8' }).split('=')[1].trim().toLowerCase();
    return { dir, nginx, oldSerial };
  }

  async function manage(label: string, dir: string, port: number, reloadCommand: string, validationPort = port): Promise<string> {
    const created = await api<{ id: string }>('POST', '/api/v1/managed-certificates', {
      name: label,
      agentId,
      profile: { dnsNames: [NAME], validityDays: 30 },
      targets: [{ kind: 'fullchain-pem', path: join(dir, 'fullchain.pem'), keyPath: join(dir, 'key.pem') }],
      reloadCommand,
      reloadTimeoutSeconds: 20,
      validation: { host: '127.0.0.1', port: validationPort, serverName: NAME, timeoutSeconds: 5 },
    });
    return created.id;
  }
  const settled = (id: string, what: string, done: (m: ManagedView) => boolean) => waitFor(() => show(id), done, 60_000, what);

  afterEach(() => {
    const state = expect.getState();
    if (agent && state.assertionCalls !== state.numPassingAsserts) console.log(`agent output:\n${agent.output().slice(-4000)}\nserver output:\n${server.output().slice(-3000)}`);
  });

  beforeAll(async () => {
    if (database === 'postgresql') db = await createTestDatabase('managed_e2e');
    serverEnv = await testServerEnv(work, db?.url, { CERTFLEET_SCHEDULER_SECONDS: '1' });
    server = await startServerProcess(serverEnv);
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    const ca = await api<{ rootPem: string }>('POST', '/api/v1/issuing-cas/quick-start', { name: 'e2e' });
    rootFile = join(work, 'root.pem');
    writeFileSync(rootFile, ca.rootPem);
    const token = await cli(['token', 'create', '--ttl', '1h'], cliEnv);
    const enrolled = await agentCommand(['enroll', '--server', `127.0.0.1:${server.grpcPort}`, '--token', token.stdout.trim(), '--ca-fingerprint', server.fingerprint, '--state-dir', agentState]);
    expect(enrolled.stdout).toMatch(/enrolled as agent/);
    agentId = /enrolled as agent ([0-9a-f-]{36})/.exec(enrolled.stdout)![1];
    mkdirSync(join(work, 'sites'), { recursive: true });
    startAgent();
  });

  afterAll(async () => {
    if (agent) await stopProcess(agent.child);
    for (const n of nginxes) await n.stop();
    if (server) await server.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('issues into nginx, then renews on request: the handshake shows each new serial and a chain to the issuing CA', async () => {
    const { dir, nginx, oldSerial } = await site('renew');
    expect((await servedBy(nginx.port, NAME, rootFile)).serial).toBe(oldSerial);
    const id = await manage('renew', dir, nginx.port, nginx.reloadCommand);
    const first = await settled(id, 'the first certificate to be installed', (m) => m.status === 'active' && m.currentSerial !== null);
    let served = await servedBy(nginx.port, NAME, rootFile);
    expect(served).toMatchObject({ serial: first.currentSerial, verify: '0 (ok)', chainLength: 2 });

    await api('POST', `/api/v1/managed-certificates/${id}/renew`);
    const second = await settled(id, 'the renewal', (m) => m.currentSerial !== first.currentSerial && m.openJob === null);
    served = await servedBy(nginx.port, NAME, rootFile);
    expect(served).toMatchObject({ serial: second.currentSerial, verify: '0 (ok)' });
    expect(second.jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    // Key file permissions on the host.
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
  });

  it('rolls back when the reload command fails: nginx keeps serving the previous certificate', async () => {
    const { dir, nginx, oldSerial } = await site('bad-reload');
    const before = readFileSync(join(dir, 'fullchain.pem'), 'utf8');
    // The reload fails for the new files; the one after the rollback (previous files) works.
    const once = join(work, 'bad-reload.failed-once');
    const id = await manage('bad-reload', dir, nginx.port, `if [ -e '${once}' ]; then ${nginx.reloadCommand}; else touch '${once}'; echo 'config test failed' >&2; exit 3; fi`);
    const failed = await settled(id, 'the job to roll back', (m) => m.jobs[0]?.state === 'rolled_back' && m.failureCount === 1);
    expect(failed.jobs[0].stage).toBe('reload');
    expect(failed.jobs[0].error).toMatch(/exit code 3/);
    expect(failed.jobs[0].error).not.toMatch(/reloading them failed/);
    expect(failed.lastError).toMatch(/reload/);
    expect(readFileSync(join(dir, 'fullchain.pem'), 'utf8')).toBe(before);
    expect((await servedBy(nginx.port, NAME, rootFile)).serial).toBe(oldSerial);
  });

  it('rolls back when validation fails (the endpoint serves another certificate)', async () => {
    const { dir, nginx, oldSerial } = await site('bad-validate');
    const other = await site('other');
    // Reload works, but validation looks at a server that never gets the new certificate.
    const id = await manage('bad-validate', dir, nginx.port, nginx.reloadCommand, other.nginx.port);
    const failed = await settled(id, 'the job to roll back', (m) => m.jobs[0]?.state === 'rolled_back' && m.failureCount === 1);
    expect(failed.jobs[0].stage).toBe('validate');
    expect(failed.status).not.toBe('active');
    // Rolled back and reloaded: the site still serves its old certificate.
    expect((await waitUntilServed(nginx.port, NAME, rootFile, oldSerial)).serial).toBe(oldSerial);
  });

  it('converges after SIGKILL of the agent between writing the files and reloading', async () => {
    const { dir, nginx } = await site('kill-agent');
    const gate = join(work, 'kill-agent.gate');
    const reached = join(work, 'kill-agent.reached');
    writeFileSync(gate, '');
    // The reload waits at the gate (its own process group: it outlives the agent, as on a real host).
    const id = await manage('kill-agent', dir, nginx.port, `touch '${reached}'; while [ -e '${gate}' ]; do sleep 0.1; done; ${nginx.reloadCommand}`);
    await waitFor(async () => existsSync(reached), Boolean, 60_000, 'the agent to write the files and start the reload');
    agent!.child.kill('SIGKILL');
    await new Promise((r) => agent!.child.once('exit', r));
    rmSync(gate);
    rmSync(reached);
    startAgent();
    const done = await settled(id, 'the interrupted job to finish after restart', (m) => m.status === 'active' && m.openJob === null);
    expect(done.jobs).toHaveLength(1);
    expect(done.jobs[0].state).toBe('succeeded');
    expect((await waitUntilServed(nginx.port, NAME, rootFile, done.currentSerial!)).serial).toBe(done.currentSerial);
    const issuedForJob = await api<{ jobs: { issuedSerial: string | null }[] }>('GET', `/api/v1/managed-certificates/${id}`);
    expect(issuedForJob.jobs.filter((j) => j.issuedSerial)).toHaveLength(1);
  });

  it('converges after SIGKILL of the server between signing and delivery', async () => {
    const { dir, nginx } = await site('kill-server');
    const gate = join(work, 'kill-server.gate');
    writeFileSync(gate, '');
    // The reload waits, so the job stays "issued" (signed, result not yet in) long enough to kill the server.
    const id = await manage('kill-server', dir, nginx.port, `while [ -e '${gate}' ]; do sleep 0.1; done; ${nginx.reloadCommand}`);
    await settled(id, 'the job to be signed', (m) => m.openJob?.state === 'issued');
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    rmSync(gate);
    server = await startServerProcess(serverEnv);
    const done = await settled(id, 'the job to settle after the server restart', (m) => m.status === 'active' && m.openJob === null);
    expect(done.jobs).toHaveLength(1);
    expect(done.jobs[0]).toMatchObject({ state: 'succeeded', issuedSerial: done.currentSerial });
    expect((await waitUntilServed(nginx.port, NAME, rootFile, done.currentSerial!)).serial).toBe(done.currentSerial);
  });

  it('records all of it in the audit trail, whose hash chain verifies', async () => {
    const audit = await cli(['audit', '--json', '--all'], cliEnv);
    expect(audit.code).toBe(0);
    const actions = (JSON.parse(audit.stdout) as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['issuing-ca.created', 'issuing-ca.imported', 'managed.created', 'job.created', 'certificate.issued', 'managed.renewed', 'job.rolled_back', 'managed.renew-requested']));
    expect((await cli(['audit', 'verify'], cliEnv)).code).toBe(0);
  });
});
