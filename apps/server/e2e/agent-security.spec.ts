import { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AgentServiceClient, EnrollmentServiceClient, EnrollResponse, InventoryReport, RenewIdentityResponse, ServerMessage } from '@certfleet/proto';
import { agentIdFromCertificate, createFleetCa, createKeyAndCsr, issueAgentCertificate } from '@certfleet/pki';
import { channelCredentials, targetNameOptions } from '../../agent/src/session/server-trust';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { EnrollmentService } from '../src/app/enrollment/enrollment.service';
import { FleetCaService } from '../src/app/fleet-ca/fleet-ca.service';
import { loadServerConfig } from '../src/config/server-config';
import { RunningServer, startServer } from '../src/server';

jest.setTimeout(120_000);

interface Identity {
  agentId: string;
  privateKeyPem: string;
  certificatePem: string;
}

describe('agent endpoint security', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-security-'));
  let db: TestDatabase;
  let server: RunningServer;
  let target: string;
  let enrollment: EnrollmentService;

  const enrollClient = () => new EnrollmentServiceClient(target, channelCredentials(server.caCertificatePem), targetNameOptions(target));
  const agentClient = (id?: { privateKeyPem: string; certificatePem: string }) =>
    new AgentServiceClient(target, channelCredentials(server.caCertificatePem, id), targetNameOptions(target));

  function enrollCall(token: string, csrPem: string): Promise<EnrollResponse> {
    const client = enrollClient();
    return new Promise<EnrollResponse>((resolve, reject) =>
      client.enroll({ token, csrPem, host: undefined }, new Metadata(), { deadline: Date.now() + 20_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    ).finally(() => client.close());
  }

  async function enrollAgent(): Promise<Identity> {
    const { token } = await enrollment.createToken(600);
    const { privateKeyPem, csrPem } = await createKeyAndCsr('sec-test');
    const res = await enrollCall(token, csrPem);
    return { agentId: res.agentId, privateKeyPem, certificatePem: res.certificatePem };
  }

  /** Opens Connect, sends `messages`, and collects what the server answers until it ends the call. */
  function converse(id: { privateKeyPem: string; certificatePem: string } | undefined, send: (stream: ReturnType<AgentServiceClient['connect']>) => void, wantMessages = 1) {
    const client = agentClient(id);
    const stream = client.connect();
    const received: ServerMessage[] = [];
    return new Promise<{ received: ServerMessage[]; error?: ServiceError }>((resolve) => {
      const finish = (error?: ServiceError) => {
        client.close();
        resolve({ received, error });
      };
      stream.on('data', (m: ServerMessage) => {
        received.push(m);
        if (received.length >= wantMessages) {
          stream.end();
          finish();
        }
      });
      stream.on('error', (e: ServiceError) => finish(e));
      stream.on('end', () => finish());
      send(stream);
    });
  }

  const hello = { payload: { $case: 'hello' as const, value: { host: undefined, lastSequence: 0n } } };

  beforeAll(async () => {
    db = await createTestDatabase('security');
    const config = loadServerConfig({ CERTFLEET_DATA_DIR: dataDir, DATABASE_URL: db.url, CERTFLEET_HTTP_PORT: '0', CERTFLEET_GRPC_PORT: '0', CERTFLEET_GRPC_HOST: '127.0.0.1' });
    server = await startServer(config, ['error']);
    target = `127.0.0.1:${server.grpcPort}`;
    enrollment = server.app.get(EnrollmentService);
  });

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses Connect without a client certificate', async () => {
    const { error, received } = await converse(undefined, (s) => s.write(hello));
    expect(received).toHaveLength(0);
    expect(error?.code).toBe(status.UNAUTHENTICATED);
    expect(error?.details).toContain('client certificate');
  });

  it('refuses a client certificate from another CA, even one naming an enrolled agent', async () => {
    const real = await enrollAgent();
    const otherCa = await createFleetCa({ commonName: 'not the fleet CA' });
    const { privateKeyPem, csrPem } = await createKeyAndCsr('impostor');
    const forged = await issueAgentCertificate({ ca: otherCa, csrPem, agentId: real.agentId, validityHours: 1 });
    const { error, received } = await converse({ privateKeyPem, certificatePem: forged.certificatePem }, (s) => s.write(hello));
    expect(received).toHaveLength(0);
    expect(error?.code).toBe(status.UNAUTHENTICATED);
  });

  it('refuses a fleet certificate that is not the agent\'s current one, or names no enrolled agent', async () => {
    const real = await enrollAgent();
    const ca = server.app.get(FleetCaService);
    const stale = await createKeyAndCsr('stale');
    const staleCert = await ca.issueAgentCertificate(stale.csrPem, real.agentId);
    const notCurrent = await converse({ privateKeyPem: stale.privateKeyPem, certificatePem: staleCert.certificatePem }, (s) => s.write(hello));
    expect(notCurrent.error?.code).toBe(status.PERMISSION_DENIED);
    expect(notCurrent.error?.details).toContain('current certificate');

    const ghost = await createKeyAndCsr('ghost');
    const ghostCert = await ca.issueAgentCertificate(ghost.csrPem, '00000000-0000-4000-8000-000000000000');
    const unknown = await converse({ privateKeyPem: ghost.privateKeyPem, certificatePem: ghostCert.certificatePem }, (s) => s.write(hello));
    expect(unknown.error?.code).toBe(status.PERMISSION_DENIED);
    expect(unknown.error?.details).toContain('not enrolled');
  });

  it('refuses the server\'s own certificate used as a client certificate', async () => {
    // It chains to the fleet CA, but its extended key usage is serverAuth only, so TLS does not
    // accept it as a client certificate and the call carries no verified identity.
    const creds = server.app.get(FleetCaService).serverCredentials;
    const { error, received } = await converse(creds, (s) => s.write(hello));
    expect(received).toHaveLength(0);
    expect(error?.code).toBe(status.UNAUTHENTICATED);
  });

  it('refuses used, expired and unknown tokens, and spends no token on a bad CSR', async () => {
    const { csrPem } = await createKeyAndCsr('token-test');
    const used = await enrollment.createToken(600);
    await enrollCall(used.token, csrPem);
    await expect(enrollCall(used.token, csrPem)).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('already used') });

    const expired = await enrollment.createToken(600);
    await server.app.get(DataSource).query(`UPDATE enrollment_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    await expect(enrollCall(expired.token, csrPem)).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('expired') });

    await expect(enrollCall('cfe_not-a-real-token', csrPem)).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('unknown') });

    const fresh = await enrollment.createToken(600);
    const hostile = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';
    await expect(enrollCall(fresh.token, hostile)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('CSR refused') });
    await expect(enrollCall(fresh.token, csrPem)).resolves.toMatchObject({ agentId: expect.any(String) });
  });

  it('takes the agent identity from the certificate only: one agent cannot write another\'s inventory', async () => {
    const a = await enrollAgent();
    const b = await enrollAgent();
    const report = (key: string): InventoryReport => ({
      sequence: 1n,
      fullSyncStart: true,
      fullSyncEnd: true,
      upserts: [{ key, item: { $case: 'problem', value: { path: `/etc/ssl/${key}`, kind: 'corrupt', reason: 'test', format: 'pem' } } }],
      removedKeys: [],
      scannedAt: new Date(),
      stats: undefined,
    });
    const asA = await converse(
      a,
      (s) => {
        s.write(hello);
        s.write({ payload: { $case: 'report', value: report('written-by-a') } });
      },
      2,
    );
    expect(asA.received[0].payload).toMatchObject({ $case: 'welcome', value: { agentId: a.agentId } });
    expect(asA.received[1].payload).toMatchObject({ $case: 'ack', value: { sequence: 1n, error: '' } });
    const rows: { agent_id: string; item_key: string }[] = await server.app
      .get(DataSource)
      .query('SELECT agent_id, item_key FROM inventory_items WHERE agent_id = ANY($1)', [[a.agentId, b.agentId]]);
    expect(rows).toEqual([{ agent_id: a.agentId, item_key: 'written-by-a' }]);
  });

  it('renews an agent identity: the old certificate works until the new one is used, and a lost answer never locks the agent out', async () => {
    const original = await enrollAgent();
    const renew = async (id: { privateKeyPem: string; certificatePem: string }, csrPem: string) => {
      const client = agentClient(id);
      return new Promise<RenewIdentityResponse>((resolve, reject) =>
        client.renewIdentity({ csrPem }, new Metadata(), { deadline: Date.now() + 20_000 }, (err, res) => (err ? reject(err) : resolve(res))),
      ).finally(() => client.close());
    };
    const welcomes = async (id: { privateKeyPem: string; certificatePem: string }) => {
      const r = await converse(id, (s) => s.write(hello));
      return r.received[0]?.payload?.$case === 'welcome' ? 'welcome' : `refused: ${r.error?.code} ${r.error?.details}`;
    };

    const k2 = await createKeyAndCsr('renewal');
    const second = { privateKeyPem: k2.privateKeyPem, certificatePem: (await renew(original, k2.csrPem)).certificatePem };
    expect(agentIdFromCertificate(second.certificatePem)).toBe(original.agentId);
    expect(await welcomes(original)).toBe('welcome'); // not yet replaced: the agent may not have stored the new one

    // The answer to the first renewal was lost: the agent renews again with its old certificate.
    const k3 = await createKeyAndCsr('renewal-again');
    const third = { privateKeyPem: k3.privateKeyPem, certificatePem: (await renew(original, k3.csrPem)).certificatePem };
    expect(await welcomes(second)).toMatch(/^refused: 7 .*not agent .* current certificate/);
    expect(await welcomes(third)).toBe('welcome');
    expect(await welcomes(original)).toMatch(/^refused: 7/); // retired once the new one was used

    await expect(renew(third, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    expect(await welcomes(third)).toBe('welcome');
  });

  it('requires Hello first on a stream', async () => {
    const a = await enrollAgent();
    const { error } = await converse(a, (s) => s.write({ payload: { $case: 'heartbeat', value: { sentAt: new Date() } } }));
    expect(error?.code).toBe(status.FAILED_PRECONDITION);
  });
});
