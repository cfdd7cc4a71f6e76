import { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AgentServiceClient, EnrollmentServiceClient, RecoverIdentityRequest, RecoverIdentityResponse } from '@certfleet/proto';
import { createKeyAndCsr, parseCsr } from '@certfleet/pki';
import { channelCredentials, targetNameOptions } from '../../agent/src/session/server-trust';
import { AgentIdentity, loadIdentity } from '../../agent/src/state/identity';
import { StateDir } from '../../agent/src/state/state-dir';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { openDatabase } from '../src/database/data-source';
import { agentCommand, cli, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

jest.setTimeout(300_000);

const DAY = 86_400_000;

interface AgentRow {
  id: string;
  online: boolean;
  lastSeenAt: string | null;
  certificateNotAfter: string;
}

/** libfaketime from the Debian package `faketime` (tools/test/ensure-debian-packages.sh). */
function libfaketime(): string {
  const dirs = ['/usr/lib', ...readdirSync('/usr/lib').map((d) => join('/usr/lib', d)), '/usr/local/lib'];
  const found = dirs.map((d) => join(d, 'faketime', 'libfaketime.so.1')).find((f) => existsSync(f));
  if (!found) throw new Error('libfaketime.so.1 not found: install the Debian package faketime (bash tools/test/ensure-debian-packages.sh)');
  return found;
}

/**
 * Environment that runs a process `days` ahead of the real clock: Date.now() and OpenSSL's
 * certificate checks both see the shifted time. Monotonic clocks (timers) stay real.
 */
function daysAhead(days: number): Record<string, string> {
  return { LD_PRELOAD: libfaketime(), FAKETIME: `+${days}d`, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

// An IoT gateway offline for weeks: its 1-hour identity certificate expired long before it came
// back. The server and agents run ahead of the real clock by days instead of the test waiting.
describe.each(['pglite', 'postgresql'] as const)('agent identity recovery end to end on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-recovery-${database}-`));
  const scanRoot = join(work, 'certs');
  const stateOf = (name: string) => join(work, `agent-${name}`);
  let db: TestDatabase | undefined;
  let serverEnv: Record<string, string>;
  let server: ServerProcess | undefined;
  let cliEnv: Record<string, string>;
  let target: string;
  /** How far ahead of the real clock the running server is. */
  let serverAheadMs = 0;
  const agents: Array<ReturnType<typeof startAgentProcess>> = [];
  const enrolled = {} as Record<'recovering' | 'late' | 'forged' | 'disabled', AgentIdentity>;
  let snapshot: Record<string, unknown>[];

  const serverNow = () => new Date(Date.now() + serverAheadMs);

  async function startServer(days: number, extra: Record<string, string> = {}): Promise<void> {
    if (server) await server.stop();
    serverAheadMs = days * DAY;
    server = await startServerProcess({ ...serverEnv, ...(days ? daysAhead(days) : {}), ...extra });
  }

  function startAgent(name: string, days: number) {
    const agent = startAgentProcess(['--state-dir', stateOf(name), '--scan-root', scanRoot, '--scan-interval', '3600'], daysAhead(days));
    agents.push(agent);
    return agent;
  }

  /** The database as the stopped server left it (PGlite is single-process, so never while it runs). */
  async function withStoppedServerDatabase<T>(work_: (ds: DataSource) => Promise<T>): Promise<T> {
    await server?.stop();
    server = undefined;
    const ds = await openDatabase(db ? { url: db.url } : { pgliteDir: join(serverEnv.CERTFLEET_DATA_DIR, 'pglite') });
    try {
      return await work_(ds);
    } finally {
      await ds.destroy();
    }
  }
  const agentRows = (ds: DataSource) => ds.query('SELECT * FROM agents ORDER BY id') as Promise<Record<string, unknown>[]>;

  async function listAgents(): Promise<AgentRow[]> {
    const r = await cli(['agents', '--json'], cliEnv);
    if (r.code !== 0) throw new Error(`certfleet agents failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as AgentRow[];
  }
  const agentView = async (id: string) => (await listAgents()).find((a) => a.id === id)!;

  /** A RecoverIdentity request for a fresh key, signed by `signerKeyPem` as the proto comment says. */
  async function recoveryRequest(identity: AgentIdentity, signedAt: Date, signerKeyPem = identity.privateKeyPem): Promise<RecoverIdentityRequest> {
    const { csrPem } = await createKeyAndCsr('e2e');
    const csrHash = createHash('sha256').update(parseCsr(csrPem).der).digest('hex');
    const text = `certfleet-identity-recovery-v1\n${identity.agentId}\n${signedAt.toISOString()}\n${csrHash}`;
    return { certificatePem: identity.certificatePem, csrPem, signedAt, proofSignature: sign('sha256', Buffer.from(text), createPrivateKey(signerKeyPem)) };
  }

  function recoverCall(request: RecoverIdentityRequest): Promise<RecoverIdentityResponse> {
    const client = new EnrollmentServiceClient(target, channelCredentials(enrolled.recovering.caCertificatesPem), targetNameOptions(target));
    return new Promise<RecoverIdentityResponse>((resolve, reject) =>
      client.recoverIdentity(request, new Metadata(), { deadline: Date.now() + 20_000 }, (err, res) => (err ? reject(err) : resolve(res))),
    ).finally(() => client.close());
  }

  /** Opens Connect with `identity` over mTLS and returns how the server ended it. */
  function connectWith(identity: AgentIdentity): Promise<ServiceError | undefined> {
    const client = new AgentServiceClient(target, channelCredentials(identity.caCertificatesPem, identity), targetNameOptions(target));
    const stream = client.connect();
    return new Promise<ServiceError | undefined>((resolve) => {
      stream.on('data', () => resolve(undefined));
      stream.on('error', (e: ServiceError) => resolve(e));
      stream.write({ payload: { $case: 'hello', value: { host: undefined, lastSequence: 0n } } });
    }).finally(() => {
      stream.cancel();
      client.close();
    });
  }

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls === state.numPassingAsserts) return;
    if (server) console.log(`server output:\n${server.output().slice(-4000)}`);
    for (const a of agents) console.log(`agent output:\n${a.output().slice(-3000)}`);
  });

  beforeAll(async () => {
    mkdirSync(scanRoot);
    if (database === 'postgresql') db = await createTestDatabase('identity_recovery_e2e');
    serverEnv = await testServerEnv(work, db?.url, { CERTFLEET_AGENT_CERT_HOURS: '1' });
    // Today: four gateways enroll, each with a 1-hour identity certificate.
    await startServer(0);
    target = `127.0.0.1:${server!.grpcPort}`;
    cliEnv = { CERTFLEET_URL: server!.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    for (const name of ['recovering', 'late', 'forged', 'disabled'] as const) {
      const token = await cli(['token', 'create', '--ttl', '1h'], cliEnv);
      const r = await agentCommand(['enroll', '--server', target, '--token', token.stdout.trim(), '--ca-fingerprint', server!.fingerprint, '--state-dir', stateOf(name)]);
      if (r.code !== 0) throw new Error(`enroll ${name} failed: ${r.stderr}`);
      enrolled[name] = loadIdentity(new StateDir(stateOf(name)));
    }
    // An operator disables one of them; then the server's database is what every refusal must leave alone.
    snapshot = await withStoppedServerDatabase(async (ds) => {
      await ds.query('UPDATE agents SET disabled_at = $2 WHERE id = $1', [enrolled.disabled.agentId, new Date()]);
      return agentRows(ds);
    });
    expect(snapshot).toHaveLength(4);
  });

  afterAll(async () => {
    for (const a of agents) await stopProcess(a.child);
    await server?.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('two days later, mTLS refuses the expired certificate and the agent recovers its identity and connects', async () => {
    await startServer(2);
    const old = enrolled.recovering;
    // What the gateway faces: TLS (at the server's clock) no longer accepts its certificate.
    expect(await connectWith(old)).toMatchObject({ code: status.UNAUTHENTICATED });

    const agent = startAgent('recovering', 2);
    const view = await waitFor(() => agentView(old.agentId), (a) => a.online, 60_000, 'the recovering agent to connect');
    expect(agent.output()).toContain("recovered this agent's identity; new certificate valid until");

    const renewed = loadIdentity(new StateDir(stateOf('recovering')));
    const cert = new X509Certificate(renewed.certificatePem);
    expect(cert.serialNumber).not.toBe(new X509Certificate(old.certificatePem).serialNumber);
    expect(cert.checkPrivateKey(createPrivateKey(renewed.privateKeyPem))).toBe(true);
    expect(createPrivateKey(renewed.privateKeyPem).export({ format: 'pem', type: 'pkcs8' })).not.toBe(
      createPrivateKey(old.privateKeyPem).export({ format: 'pem', type: 'pkcs8' }),
    );
    // Issued at the server's (shifted) time, and the server lists it as the agent's certificate.
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 2 * DAY);
    expect(new Date(view.certificateNotAfter).getTime()).toBe(new Date(cert.validTo).getTime());
    expect(server!.output()).toContain(`agent ${old.agentId} recovered its expired identity`);

    // The expired certificate is retired: it cannot recover again, and the new one must renew instead.
    await expect(recoverCall(await recoveryRequest(old, serverNow()))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringContaining(`is not agent ${old.agentId}'s current identity certificate`),
    });
    await expect(recoverCall(await recoveryRequest(renewed, serverNow()))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringContaining('still valid'),
    });
    await stopProcess(agent.child);
  });

  it('refuses a proof signed by another key, a replayed old request and a disabled agent', async () => {
    const forged = enrolled.forged;
    const intruder = await createKeyAndCsr('intruder');
    await expect(recoverCall(await recoveryRequest(forged, serverNow(), intruder.privateKeyPem))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringContaining("proof signature does not verify with the certificate's key"),
    });
    // Genuinely signed, but ten minutes ago: a captured request replayed.
    const replayed = await recoveryRequest(forged, new Date(serverNow().getTime() - 10 * 60_000));
    await expect(recoverCall(replayed)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringMatching(/signed at .*, 10 minutes behind the server's clock \(limit 5 minutes\)/),
    });

    const disabled = enrolled.disabled;
    const agent = startAgent('disabled', 2);
    const reason = `identity recovery refused by the server: agent ${disabled.agentId} was disabled by an operator`;
    await waitFor(async () => agent.output(), (o) => o.includes(reason), 30_000, 'the disabled agent to be refused');
    expect(agent.output()).toMatch(/ error .*was disabled by an operator.*; retrying in \d+\.\ds/);
    await stopProcess(agent.child);
    expect((await agentView(disabled.agentId)).online).toBe(false);
    expect(server!.output()).toContain(`identity recovery refused for agent ${disabled.agentId}: agent ${disabled.agentId} was disabled`);
    expect(server!.output()).toContain(`identity recovery refused for agent ${forged.agentId}: the proof signature does not verify`);
  });

  it('six weeks later, beyond the 30-day grace period, the agent is told to re-enroll and keeps retrying', async () => {
    await startServer(41);
    const late = enrolled.late;
    const agent = startAgent('late', 41);
    const reason = 'identity recovery refused by the server: identity certificate expired 40 days ago, beyond the 30-day grace period: re-enroll this agent with a new token';
    await waitFor(async () => agent.output(), (o) => o.includes(reason), 30_000, 'the late agent to be refused');
    expect(agent.output()).toMatch(/ error .*beyond the 30-day grace period.*; retrying in \d+\.\ds/);
    expect(loadIdentity(new StateDir(stateOf('late')))).toEqual(late);
    const view = await agentView(late.agentId);
    expect(view).toMatchObject({ online: false, lastSeenAt: null });
    expect(server!.output()).toContain(`identity recovery refused for agent ${late.agentId}: identity certificate expired 40 days ago`);
    await stopProcess(agent.child);
  });

  it('left the database untouched by every refusal, and the recovered agent on its new serial', async () => {
    const rows = await withStoppedServerDatabase(agentRows);
    const byId = (list: Record<string, unknown>[], id: string) => list.find((r) => r.id === id);
    for (const name of ['late', 'forged', 'disabled'] as const) {
      expect(byId(rows, enrolled[name].agentId)).toEqual(byId(snapshot, enrolled[name].agentId));
    }
    const recovered = byId(rows, enrolled.recovering.agentId)!;
    const newSerial = new X509Certificate(loadIdentity(new StateDir(stateOf('recovering'))).certificatePem).serialNumber.toLowerCase();
    expect(recovered.certificate_serial).toBe(newSerial);
    expect(recovered.previous_certificate_serial).toBeNull();
    expect(recovered.certificate_serial).not.toBe(byId(snapshot, enrolled.recovering.agentId)!.certificate_serial);
  });

  it('once an operator raises the grace period, the late agent recovers', async () => {
    await startServer(41, { CERTFLEET_IDENTITY_GRACE_DAYS: '60' });
    const late = enrolled.late;
    const agent = startAgent('late', 41);
    await waitFor(() => agentView(late.agentId), (a) => a.online, 60_000, 'the late agent to recover and connect');
    expect(agent.output()).toContain("recovered this agent's identity");
    expect(loadIdentity(new StateDir(stateOf('late'))).certificatePem).not.toBe(late.certificatePem);
  });
});
