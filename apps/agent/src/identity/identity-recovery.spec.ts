import { experimental, Metadata, Server, ServerDuplexStream, ServiceError, status } from '@grpc/grpc-js';
import { createHash, createPrivateKey, createPublicKey, randomUUID, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentMessage,
  AgentServiceService,
  EnrollmentServiceService,
  RecoverIdentityRequest,
  RecoverIdentityResponse,
  ServerMessage,
} from '@certfleet/proto';
import { createFleetCa, createKeyAndCsr, FleetCaMaterial, issueAgentCertificate, issueServerCertificate, parseCsr } from '@certfleet/pki';
import { AGENT_DEFAULTS } from '../config/agent-config';
import { LogLevel } from '../log';
import { AgentRunner } from '../run/agent-runner';
import { AgentIdentity, loadIdentity, saveIdentity } from '../state/identity';
import { StateDir } from '../state/state-dir';
import { identityExpired, IdentityRecoveryRefusedError, recoverIdentity, recoverIdentityWithRetry } from './identity-recovery';
import { IdentityCheckError } from './issued-identity';

jest.setTimeout(60_000);

const HOUR = 3_600_000;

function refusal(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

/** The documented proof, checked independently of the agent's code. */
function proofVerifies(req: RecoverIdentityRequest): boolean {
  const cert = new X509Certificate(req.certificatePem);
  const agentId = cert.subject.match(/CN=([0-9a-f-]{36})/)![1];
  const text = `certfleet-identity-recovery-v1\n${agentId}\n${req.signedAt!.toISOString()}\n${createHash('sha256').update(parseCsr(req.csrPem).der).digest('hex')}`;
  return verify('sha256', Buffer.from(text), cert.publicKey, req.proofSignature);
}

describe('identity recovery (agent side)', () => {
  const work = mkdtempSync(join(tmpdir(), 'cf-agent-recovery-'));
  let ca: FleetCaMaterial;
  let server: Server;
  let target: string;
  /** What the fake server does with each RecoverIdentity call. */
  let answer: (req: RecoverIdentityRequest) => Promise<RecoverIdentityResponse>;
  const received: RecoverIdentityRequest[] = [];
  /** The verified client certificate of each Connect (null: none, or one TLS did not accept). */
  const connectedWith: Array<Buffer | null> = [];

  const issueFor = async (csrPem: string, agentId: string, now = new Date()) => {
    const issued = await issueAgentCertificate({ ca, csrPem, agentId, validityHours: 1, now });
    return { certificatePem: issued.certificatePem, notAfter: issued.notAfter };
  };

  /** A state directory holding an identity whose certificate expired `agoMs` ago. */
  async function expiredIdentity(name: string, agoMs = 2 * 24 * HOUR): Promise<{ state: StateDir; identity: AgentIdentity }> {
    const agentId = randomUUID();
    const { privateKeyPem, csrPem } = await createKeyAndCsr(name);
    const { certificatePem } = await issueFor(csrPem, agentId, new Date(Date.now() - agoMs - HOUR));
    const identity: AgentIdentity = { agentId, server: target, privateKeyPem, certificatePem, caCertificatesPem: ca.certificatePem };
    const state = new StateDir(join(work, name));
    saveIdentity(state, identity);
    return { state, identity };
  }

  beforeAll(async () => {
    ca = await createFleetCa({ commonName: 'agent recovery test CA' });
    const tls = await issueServerCertificate({ ca, commonName: 'srv', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 30 });
    const files = {
      certificateFile: join(work, 'server.pem'),
      privateKeyFile: join(work, 'server.key'),
      caCertificateFile: join(work, 'ca.pem'),
    };
    writeFileSync(files.certificateFile, tls.certificatePem + ca.certificatePem);
    writeFileSync(files.privateKeyFile, tls.privateKeyPem);
    writeFileSync(files.caCertificateFile, ca.certificatePem);
    // Like the real server: client certificates requested and verified, but not required.
    const provider = new experimental.FileWatcherCertificateProvider({ ...files, refreshIntervalMs: 60_000 });
    server = new Server();
    server.addService(EnrollmentServiceService, {
      enroll: (_call: unknown, cb: (e: ServiceError) => void) => cb(refusal(status.UNIMPLEMENTED, 'not here')),
      recoverIdentity: (call: { request: RecoverIdentityRequest }, cb: (e: ServiceError | null, r?: RecoverIdentityResponse) => void) => {
        received.push(call.request);
        answer(call.request).then(
          (r) => cb(null, r),
          (e: ServiceError) => cb(e),
        );
      },
    });
    server.addService(AgentServiceService, {
      connect: (call: ServerDuplexStream<AgentMessage, ServerMessage>) => {
        connectedWith.push(call.getAuthContext()?.sslPeerCertificate?.raw ?? null);
        call.on('data', () => undefined);
        call.end();
      },
      renewIdentity: (_call: unknown, cb: (e: ServiceError) => void) => cb(refusal(status.UNIMPLEMENTED, 'not here')),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', experimental.createCertificateProviderServerCredentials(provider, provider, false), (e, p) => (e ? reject(e) : resolve(p))),
    );
    target = `127.0.0.1:${port}`;
  });

  beforeEach(() => {
    received.length = 0;
    // By default: a well-behaved server that checks the proof and issues for the CSR.
    answer = async (req) => {
      if (!proofVerifies(req)) throw refusal(status.PERMISSION_DENIED, 'proof does not verify');
      const agentId = new X509Certificate(req.certificatePem).subject.match(/CN=([0-9a-f-]{36})/)![1];
      return issueFor(req.csrPem, agentId);
    };
  });

  afterAll(async () => {
    server?.forceShutdown();
    rmSync(work, { recursive: true, force: true });
  });

  it('tells an expired identity from a valid one', async () => {
    const { identity } = await expiredIdentity('expiry', 60_000);
    expect(identityExpired(identity)).toBe(true);
    expect(identityExpired(identity, new Date(Date.now() - 2 * HOUR))).toBe(false);
  });

  it('signs the request with the expired key for a new key, checks and stores the new identity', async () => {
    const { state, identity } = await expiredIdentity('recover');
    const before = Date.now();

    const next = await recoverIdentity(identity, state);

    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req.certificatePem).toBe(identity.certificatePem);
    expect(proofVerifies(req)).toBe(true);
    expect(req.signedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(req.signedAt!.getTime()).toBeLessThanOrEqual(Date.now());
    // A new key: the CSR's public key is neither the old one nor absent.
    const oldSpki = createPublicKey(identity.privateKeyPem).export({ format: 'der', type: 'spki' });
    expect(parseCsr(req.csrPem).publicKeySpki.equals(oldSpki)).toBe(false);
    expect(parseCsr(req.csrPem).publicKeySpki.equals(createPublicKey(next.privateKeyPem).export({ format: 'der', type: 'spki' }))).toBe(true);

    // Stored as a new generation, exactly as renewal does; the expired pair is gone.
    expect(loadIdentity(state)).toEqual(next);
    expect(next).toMatchObject({ agentId: identity.agentId, server: identity.server, caCertificatesPem: identity.caCertificatesPem });
    expect(identityExpired(next)).toBe(false);
    const meta = JSON.parse(readFileSync(state.path('identity.json'), 'utf8'));
    expect(meta.keyFile).toMatch(/^agent-key\.\d+\.pem$/);
    expect(readdirSync(state.root).filter((f) => /^agent-(key|cert)/.test(f)).sort()).toEqual([meta.certFile, meta.keyFile].sort());
    expect(new X509Certificate(next.certificatePem).checkPrivateKey(createPrivateKey(next.privateKeyPem))).toBe(true);
  });

  it("reports the server's reason for a refusal and keeps the identity it had", async () => {
    const { state, identity } = await expiredIdentity('refused');
    const reason = 'identity certificate expired 41 days ago, beyond the 30-day grace period: re-enroll this agent with a new token';
    answer = async () => {
      throw refusal(status.PERMISSION_DENIED, reason);
    };
    const err = await recoverIdentity(identity, state).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityRecoveryRefusedError);
    expect((err as Error).message).toBe(`identity recovery refused by the server: ${reason}`);
    expect(loadIdentity(state)).toEqual(identity);
  });

  it('refuses to store a certificate issued for another key', async () => {
    const { state, identity } = await expiredIdentity('wrong-key');
    answer = async () => issueFor((await createKeyAndCsr('someone-else')).csrPem, identity.agentId);
    await expect(recoverIdentity(identity, state)).rejects.toBeInstanceOf(IdentityCheckError);
    expect(loadIdentity(state)).toEqual(identity);
  });

  it('retries with backoff, logging refusals at error level, until the server accepts', async () => {
    const { state, identity } = await expiredIdentity('retry');
    let refusals = 2;
    const accept = answer;
    answer = async (req) => {
      if (refusals-- > 0) throw refusal(status.PERMISSION_DENIED, 'beyond the 30-day grace period');
      return accept(req);
    };
    const logs: Array<[LogLevel, string]> = [];
    const next = await recoverIdentityWithRetry(identity, state, (l, m) => logs.push([l, m]), { baseDelayMs: 20, maxDelayMs: 40 });
    expect(next).toEqual(loadIdentity(state));
    expect(received).toHaveLength(3);
    const errors = logs.filter(([l]) => l === 'error').map(([, m]) => m);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^identity recovery refused by the server: beyond the 30-day grace period; retrying in \d+\.\ds$/);
    expect(logs[logs.length - 1]).toEqual(['info', expect.stringMatching(/^recovered this agent's identity; new certificate valid until /)]);
  });

  it('stops retrying when told to', async () => {
    const { state, identity } = await expiredIdentity('abort');
    answer = async () => {
      throw refusal(status.PERMISSION_DENIED, 'agent is disabled');
    };
    const stop = new AbortController();
    const logs: string[] = [];
    const result = recoverIdentityWithRetry(identity, state, (_l, m) => {
      logs.push(m);
      if (m.includes('agent is disabled')) stop.abort();
    }, { signal: stop.signal, baseDelayMs: 60_000 });
    await expect(result).resolves.toBeUndefined();
    expect(received).toHaveLength(1);
    expect(loadIdentity(state)).toEqual(identity);
  });

  it('AgentRunner recovers an expired identity before it connects, then connects with the new certificate', async () => {
    const { identity } = await expiredIdentity('runner');
    const scanRoot = mkdtempSync(join(work, 'scan-'));
    const logs: Array<[LogLevel, string]> = [];
    const runner = new AgentRunner({ ...AGENT_DEFAULTS, stateDir: join(work, 'runner'), scanRoots: [scanRoot], scanIntervalSeconds: 3600 }, (l, m) => logs.push([l, m]));
    connectedWith.length = 0;
    try {
      runner.start();
      const until = Date.now() + 20_000;
      while (connectedWith.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    } finally {
      runner.stop();
    }
    const stored = loadIdentity(new StateDir(join(work, 'runner')));
    expect(stored.certificatePem).not.toBe(identity.certificatePem);
    expect(received).toHaveLength(1);
    // Every connection carried the recovered certificate; none was attempted with the expired one.
    expect(connectedWith.length).toBeGreaterThan(0);
    expect(connectedWith.every((der) => der?.equals(new X509Certificate(stored.certificatePem).raw))).toBe(true);
    expect(logs.some(([l, m]) => l === 'info' && m.startsWith("recovered this agent's identity"))).toBe(true);
  });
});
