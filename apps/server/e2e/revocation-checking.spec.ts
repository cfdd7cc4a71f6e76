import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Issued, OcspResponder, reservePort, TestCa } from '../../../libs/pki/src/revocation-check/test-kit';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { agentCommand, cli, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

interface CertRow {
  path: string;
  revocation: { status: string; reason: string | null; revokedAt: string | null; source: string; detail: string } | null;
}

jest.setTimeout(300_000);

// A CA certfleet does not run: `openssl ca` issued two server certificates naming a real
// `openssl ocsp` responder on loopback, and revoked one of them for keyCompromise.
let ca: TestCa;
let responder: OcspResponder;
let revokedLeaf: Issued;
const hostFiles = ['ca.pem', 'www-good.pem', 'www-revoked.pem'];

beforeAll(async () => {
  ca = new TestCa('/CN=Partner Issuing CA/O=External');
  const port = await reservePort();
  const ocsp = [`http://127.0.0.1:${port}/`];
  ca.issue('www-good', { ocsp });
  revokedLeaf = ca.issue('www-revoked', { ocsp });
  ca.revoke('www-revoked', 'keyCompromise');
  responder = await OcspResponder.start(ca.dir, port, ['-index', 'index.txt', '-CA', 'ca.pem', '-rsigner', 'ca.pem', '-rkey', 'ca.key', '-ndays', '1']);
});

afterAll(async () => {
  await responder?.stop();
  ca?.dir.remove();
});

describe.each(['pglite', 'postgresql'] as const)('revocation checking end to end on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-e2e-revocation-${database}-`));
  const hostDir = join(work, 'host');
  const agentState = join(work, 'agent-state');
  let db: TestDatabase | undefined;
  let server: ServerProcess;
  let agent: ReturnType<typeof startAgentProcess> | undefined;
  let cliEnv: Record<string, string>;

  const certs = async (args: string[] = []): Promise<CertRow[]> => {
    const r = await cli(['certs', 'list', '--json', ...args], cliEnv);
    if (r.code !== 0) throw new Error(`certfleet certs list failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { items: CertRow[] }).items;
  };

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) console.log(`server output:\n${server?.output().slice(-4000)}\nagent output:\n${agent?.output().slice(-4000)}`);
  });

  beforeAll(async () => {
    // The agent's host: the two certificates and the CA certificate, so the issuer is in the inventory.
    mkdirSync(hostDir);
    for (const file of hostFiles) copyFileSync(ca.dir.file(file), join(hostDir, file));
    if (database === 'postgresql') db = await createTestDatabase('revocation_e2e');
    server = await startServerProcess(await testServerEnv(work, db?.url));
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    const token = await cli(['token', 'create', '--ttl', '1h'], cliEnv);
    const enrolled = await agentCommand(['enroll', '--server', `localhost:${server.grpcPort}`, '--token', token.stdout.trim(), '--ca-fingerprint', server.fingerprint, '--state-dir', agentState]);
    if (enrolled.code !== 0) throw new Error(`enrollment failed: ${enrolled.stderr}`);
    agent = startAgentProcess(['--state-dir', agentState, '--scan-root', hostDir, '--scan-interval', '2']);
  });

  afterAll(async () => {
    if (agent) await stopProcess(agent.child);
    if (server) await server.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('checks what the agent reported on request and lists revoked (keyCompromise) and good', async () => {
    await waitFor(certs, (rows) => rows.length === hostFiles.length, 60_000, 'the agent to report its certificates');

    const check = await cli(['certs', 'check-revocation'], cliEnv);
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe('checked 3 certificate(s): 1 good, 1 revoked, 1 unknown, 0 unreachable');

    const list = await cli(['certs', 'list'], cliEnv);
    expect(list.code).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toMatch(/^STATUS +NOT AFTER +DAYS +REVOCATION +HOST /);
    expect(lines.find((l) => l.includes(join(hostDir, 'www-revoked.pem')))).toMatch(/ revoked \(keyCompromise\) +\S+ +www-revoked +Partner Issuing CA /);
    expect(lines.find((l) => l.includes(join(hostDir, 'www-good.pem')))).toMatch(/ good +\S+ +www-good +Partner Issuing CA /);
    // The CA certificate is self-signed: nothing above it to ask.
    expect(lines.find((l) => l.includes(join(hostDir, 'ca.pem')))).toMatch(/ unknown +\S+ +Partner Issuing CA +Partner Issuing CA /);
  });

  it('filters by revocation status and gives the date and source of a revocation', async () => {
    const revoked = await certs(['--revocation', 'revoked']);
    expect(revoked.map((c) => c.path)).toEqual([join(hostDir, 'www-revoked.pem')]);
    expect(revoked[0].revocation).toMatchObject({ status: 'revoked', reason: 'keyCompromise', source: 'ocsp' });
    expect(new Date(revoked[0].revocation!.revokedAt!)).toEqual(ca.revokedAt(revokedLeaf.serial));
    expect((await certs(['--revocation', 'good'])).map((c) => c.path)).toEqual([join(hostDir, 'www-good.pem')]);
    const refused = await cli(['certs', 'list', '--revocation', 'maybe'], cliEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('revocation must be one of good, revoked, unknown, unreachable');
  });
});

