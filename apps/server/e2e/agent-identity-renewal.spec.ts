import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AGENT_DEFAULTS } from '../../agent/src/config/agent-config';
import { enroll } from '../../agent/src/enroll/enroll';
import { AgentRunner } from '../../agent/src/run/agent-runner';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { EnrollmentService } from '../src/app/enrollment/enrollment.service';
import { loadServerConfig } from '../src/config/server-config';
import { RunningServer, startServer } from '../src/server';
import { waitFor } from './support/processes';

jest.setTimeout(120_000);

describe('agent identity self-renewal', () => {
  const work = mkdtempSync(join(tmpdir(), 'cf-identity-'));
  const stateDir = join(work, 'agent');
  const scanRoot = join(work, 'certs');
  let db: TestDatabase;
  let server: RunningServer;
  let runner: AgentRunner | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('identity_renewal');
    server = await startServer(
      loadServerConfig({ CERTFLEET_DATA_DIR: join(work, 'server'), DATABASE_URL: db.url, CERTFLEET_HTTP_PORT: '0', CERTFLEET_GRPC_PORT: '0', CERTFLEET_GRPC_HOST: '127.0.0.1' }),
      ['error'],
    );
    mkdirSync(scanRoot);
  });

  afterAll(async () => {
    runner?.stop();
    await server?.close();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('renews before expiry without an operator, stores the new pair atomically and reconnects with it', async () => {
    const { token } = await server.app.get(EnrollmentService).createToken(600);
    const enrolled = await enroll({ server: `127.0.0.1:${server.grpcPort}`, token, caFingerprint: server.caFingerprint, stateDir });
    const agentRow = async () =>
      ((await server.app.get(DataSource).query('SELECT certificate_serial, previous_certificate_serial, last_seen_at FROM agents WHERE id = $1', [enrolled.agentId])) as {
        certificate_serial: string;
        previous_certificate_serial: string | null;
        last_seen_at: Date | null;
      }[])[0];

    const logs: string[] = [];
    runner = new AgentRunner({ ...AGENT_DEFAULTS, stateDir, scanRoots: [scanRoot], scanIntervalSeconds: 3600 }, (_l, m) => logs.push(m));
    runner.start();
    await waitFor(agentRow, (r) => r.last_seen_at !== null, 20_000, 'the agent to connect');

    expect(await runner.renewIdentityIfDue(new Date())).toBe(false); // a fresh 30-day certificate is not due
    const due = new Date(Date.now() + 25 * 86_400_000); // past 2/3 of its lifetime
    expect(await runner.renewIdentityIfDue(due)).toBe(true);

    const meta = JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8'));
    expect(meta).toMatchObject({ agentId: enrolled.agentId, keyFile: expect.stringMatching(/^agent-key\.\d+\.pem$/) });
    expect(readdirSync(stateDir).filter((f) => /^agent-(key|cert)/.test(f)).sort()).toEqual([meta.certFile, meta.keyFile].sort());
    expect(statSync(join(stateDir, meta.keyFile)).mode & 0o777).toBe(0o600);
    expect(existsSync(join(stateDir, 'agent-key.pem'))).toBe(false);
    const renewed = new X509Certificate(readFileSync(join(stateDir, meta.certFile)));
    expect(renewed.checkPrivateKey(createPrivateKey(readFileSync(join(stateDir, meta.keyFile))))).toBe(true);
    expect(renewed.serialNumber).not.toBe(new X509Certificate(enrolled.certificatePem).serialNumber);

    // The server switched to the new certificate, and retires the old one once the agent reconnects with it.
    const row = await waitFor(agentRow, (r) => r.previous_certificate_serial === null, 20_000, 'the agent to reconnect with its new identity');
    expect(row.certificate_serial.replace(/^0+/, '')).toBe(renewed.serialNumber.toLowerCase().replace(/^0+/, ''));
    expect(logs.some((m) => m.startsWith("renewed this agent's identity certificate"))).toBe(true);

    // A second agent process started now (e.g. after a reboot) uses the renewed identity.
    runner.stop();
    runner = new AgentRunner({ ...AGENT_DEFAULTS, stateDir, scanRoots: [scanRoot], scanIntervalSeconds: 3600 }, () => undefined);
    const before = (await agentRow()).last_seen_at!.getTime();
    runner.start();
    await waitFor(agentRow, (r) => r.last_seen_at!.getTime() > before, 20_000, 'the restarted agent to connect with its renewed identity');
  });
});
