import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { agentIdFromCertificate, createFleetCa, createKeyAndCsr, issueAgentCertificate, parseCsr } from '@certfleet/pki';
import { loadServerConfig, ServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { Agent } from './agent.entity';
import { AgentsService } from './agents.service';
import { IdentityRecoveryRefusedError, IdentityRecoveryRequest, IdentityRecoveryService } from './identity-recovery.service';

jest.setTimeout(60_000);

const DAY = 86_400_000;

interface Held {
  agentId: string;
  privateKeyPem: string;
  certificatePem: string;
  notAfter: Date;
}

/** The proof exactly as the proto comment defines it, written out independently of the service. */
function proof(signerKeyPem: string, agentId: string, signedAt: Date, csrPem: string): Buffer {
  const csrHash = createHash('sha256').update(parseCsr(csrPem).der).digest('hex');
  const text = 'certfleet-identity-recovery-v1\n' + agentId + '\n' + signedAt.toISOString() + '\n' + csrHash;
  return sign('sha256', Buffer.from(text, 'utf8'), createPrivateKey(signerKeyPem));
}

describe.each(['pglite', 'postgresql'] as const)('IdentityRecoveryService on %s', (database) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-recovery-'));
  let ds: DataSource;
  let close: () => Promise<void>;
  let config: ServerConfig;
  let ca: FleetCaService;
  let agents: AgentsService;
  let service: IdentityRecoveryService;
  let warn: jest.SpyInstance;

  const row = async (agentId: string) => (await ds.query('SELECT * FROM agents WHERE id = $1', [agentId]))[0] as Record<string, unknown>;

  /** An enrolled agent holding a fresh 1-hour identity (the server is configured that way). */
  async function enrolledAgent(keyAndCsr?: { privateKeyPem: string; csrPem: string }): Promise<Held> {
    const agentId = randomUUID();
    const { privateKeyPem, csrPem } = keyAndCsr ?? (await createKeyAndCsr('recovery-test'));
    const issued = await ca.issueAgentCertificate(csrPem, agentId);
    await ds.getRepository(Agent).insert({
      id: agentId,
      hostname: 'gw-1',
      hostFacts: {},
      enrolledAt: new Date(),
      certificateSerial: issued.serial,
      certificateNotAfter: issued.notAfter,
    });
    return { agentId, privateKeyPem, certificatePem: issued.certificatePem, notAfter: issued.notAfter };
  }

  /** A request as the agent would sign it at `signedAt` for a fresh key. */
  async function request(held: Held, signedAt: Date, overrides: Partial<IdentityRecoveryRequest> = {}) {
    const next = await createKeyAndCsr('recovered');
    const req: IdentityRecoveryRequest = {
      certificatePem: held.certificatePem,
      csrPem: next.csrPem,
      signedAt,
      proofSignature: proof(held.privateKeyPem, held.agentId, signedAt, next.csrPem),
      ...overrides,
    };
    return { req, next };
  }

  /** Expects a refusal that changes nothing for `agentId` and is logged with its id. */
  async function expectRefused(agentId: string | undefined, run: () => Promise<unknown>, message: string | RegExp, malformed = false) {
    const before = agentId ? await row(agentId) : undefined;
    warn.mockClear();
    const err = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IdentityRecoveryRefusedError);
    const refused = err as IdentityRecoveryRefusedError;
    if (typeof message === 'string') expect(refused.message).toContain(message);
    else expect(refused.message).toMatch(message);
    expect(refused.malformed).toBe(malformed);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain(`identity recovery refused for agent ${agentId ?? '(unidentified)'}: ${refused.message}`);
    if (agentId) expect(await row(agentId)).toEqual(before);
  }

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'identity_recovery'));
    config = loadServerConfig({
      CERTFLEET_DATA_DIR: dataDir,
      CERTFLEET_CA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CERTFLEET_AGENT_CERT_HOURS: '1',
    });
    expect(config.identityGraceDays).toBe(30);
    ca = new FleetCaService(config, ds);
    await ca.onModuleInit();
    agents = new AgentsService(ds, config, ca);
    service = new IdentityRecoveryService(config, ds, ca, agents);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await close?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('issues a new identity for the new key to an agent whose current certificate expired within the grace period', async () => {
    const held = await enrolledAgent();
    const oldSerial = new X509Certificate(held.certificatePem).serialNumber.toLowerCase();
    const now = new Date(held.notAfter.getTime() + 2 * DAY);
    const { req, next } = await request(held, new Date(now.getTime() - 30_000));

    const recovered = await service.recover(req, now);

    expect(recovered.agentId).toBe(held.agentId);
    const cert = new X509Certificate(recovered.certificatePem);
    expect(cert.verify(new X509Certificate(ca.caCertificatePem).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(next.privateKeyPem))).toBe(true);
    expect(agentIdFromCertificate(recovered.certificatePem)).toBe(held.agentId);
    expect(recovered.notAfter.getTime()).toBe(new Date(cert.validTo).getTime());
    // Bookkeeping is RenewIdentity's: the new serial is current, the expired one previous.
    const after = await row(held.agentId);
    expect(after.certificate_serial).toBe(cert.serialNumber.toLowerCase());
    expect(after.previous_certificate_serial).toBe(oldSerial);
    expect(new Date(after.certificate_not_after as string).getTime()).toBe(recovered.notAfter.getTime());

    // Once the agent connects with the new certificate, the expired one is retired for good.
    await expect(agents.authenticate(cert.raw)).resolves.toMatchObject({ id: held.agentId });
    expect((await row(held.agentId)).previous_certificate_serial).toBeNull();
    const again = await request(held, now);
    await expectRefused(held.agentId, () => service.recover(again.req, now), `is not agent ${held.agentId}'s current identity certificate`);
  });

  it("accepts the certificate the agent renewed from while it never used the new one (a lost answer)", async () => {
    const held = await enrolledAgent();
    const lost = await createKeyAndCsr('lost');
    await agents.renewIdentity(new X509Certificate(held.certificatePem).raw, lost.csrPem); // the answer never arrived
    const now = new Date(held.notAfter.getTime() + 3 * DAY);
    const { req } = await request(held, now);
    await expect(service.recover(req, now)).resolves.toMatchObject({ agentId: held.agentId });
  });

  it('refuses a certificate that expired beyond the grace period, saying so and what to do', async () => {
    const held = await enrolledAgent();
    const now = new Date(held.notAfter.getTime() + 41 * DAY + 3_600_000);
    const { req } = await request(held, now);
    await expectRefused(
      held.agentId,
      () => service.recover(req, now),
      'identity certificate expired 41 days ago, beyond the 30-day grace period: re-enroll this agent with a new token',
    );
    // Exactly at the limit is already too late; just inside it is fine.
    const atLimit = new Date(held.notAfter.getTime() + 30 * DAY);
    await expectRefused(held.agentId, async () => service.recover((await request(held, atLimit)).req, atLimit), 'beyond the 30-day grace period');
    const inside = new Date(atLimit.getTime() - 60_000);
    await expect(service.recover((await request(held, inside)).req, inside)).resolves.toMatchObject({ agentId: held.agentId });
  });

  it('refuses a certificate that is still valid: that is what RenewIdentity is for', async () => {
    const held = await enrolledAgent();
    const now = new Date(held.notAfter.getTime() - 10 * 60_000);
    const { req } = await request(held, now);
    await expectRefused(held.agentId, () => service.recover(req, now), /still valid \(until .*\): renew it over mTLS with RenewIdentity instead/);
  });

  it('refuses forged and replayed proofs', async () => {
    const held = await enrolledAgent();
    const now = new Date(held.notAfter.getTime() + 2 * DAY);
    const intruder = await createKeyAndCsr('intruder');

    // Signed by another key.
    const forged = await request(held, now);
    forged.req.proofSignature = proof(intruder.privateKeyPem, held.agentId, now, forged.req.csrPem);
    await expectRefused(held.agentId, () => service.recover(forged.req, now), "proof signature does not verify with the certificate's key");

    // A genuine signature over another CSR: the CSR cannot be swapped.
    const swapped = await request(held, now);
    swapped.req.csrPem = intruder.csrPem;
    await expectRefused(held.agentId, () => service.recover(swapped.req, now), "proof signature does not verify with the certificate's key");

    // A genuine signature, but for another time than the one claimed.
    const retimed = await request(held, now);
    retimed.req.signedAt = new Date(now.getTime() - 1000);
    await expectRefused(held.agentId, () => service.recover(retimed.req, now), "proof signature does not verify with the certificate's key");

    // Garbage signature bytes.
    const garbage = await request(held, now, { proofSignature: randomBytes(72) });
    await expectRefused(held.agentId, () => service.recover(garbage.req, now), "proof signature does not verify with the certificate's key");

    // An old request replayed later, and one dated ahead.
    const old = await request(held, new Date(now.getTime() - 6 * 60_000));
    await expectRefused(held.agentId, () => service.recover(old.req, now), /signed at .*, 6 minutes behind the server's clock \(limit 5 minutes\)/);
    const ahead = await request(held, new Date(now.getTime() + 6 * 60_000));
    await expectRefused(held.agentId, () => service.recover(ahead.req, now), '6 minutes ahead of the server');

    // The same accepted request replayed inside the window.
    const genuine = await request(held, now);
    await service.recover(genuine.req, now);
    await expectRefused(held.agentId, () => service.recover(genuine.req, new Date(now.getTime() + 1000)), 'already used once (a replay)');
  });

  it('refuses disabled, unknown and replaced agents, and certificates the fleet CA did not issue as agent identities', async () => {
    const disabled = await enrolledAgent();
    await ds.getRepository(Agent).update({ id: disabled.agentId }, { disabledAt: new Date() });
    const now = new Date(disabled.notAfter.getTime() + DAY * 2);
    await expectRefused(disabled.agentId, async () => service.recover((await request(disabled, now)).req, now), `agent ${disabled.agentId} was disabled`);

    const deleted = await enrolledAgent();
    await ds.getRepository(Agent).delete({ id: deleted.agentId });
    await expectRefused(deleted.agentId, async () => service.recover((await request(deleted, now)).req, now), `agent ${deleted.agentId} is not enrolled`);

    // A second certificate for the same agent that the server never recorded as its identity.
    const real = await enrolledAgent();
    const stray = await createKeyAndCsr('stray');
    const strayCert = await ca.issueAgentCertificate(stray.csrPem, real.agentId);
    const strayHeld = { ...real, privateKeyPem: stray.privateKeyPem, certificatePem: strayCert.certificatePem };
    await expectRefused(real.agentId, async () => service.recover((await request(strayHeld, now)).req, now), 'current identity certificate');

    // Names a real agent, signed by another CA.
    const otherCa = await createFleetCa({ commonName: 'not the fleet CA' });
    const forgedCert = await issueAgentCertificate({ ca: otherCa, csrPem: stray.csrPem, agentId: real.agentId, validityHours: 1, now: new Date(Date.now() - 3 * DAY) });
    const forgedHeld = { ...real, privateKeyPem: stray.privateKeyPem, certificatePem: forgedCert.certificatePem };
    await expectRefused(real.agentId, async () => service.recover((await request(forgedHeld, now)).req, now), "not issued by this server's fleet CA");

    // The server's own certificate chains to the fleet CA but names no agent.
    const serverCreds = ca.serverCredentials;
    const serverHeld = { agentId: real.agentId, privateKeyPem: serverCreds.privateKeyPem, certificatePem: serverCreds.certificatePem, notAfter: now };
    await expectRefused(undefined, async () => service.recover((await request(serverHeld, now)).req, now), 'not a certfleet agent identity certificate');
  });

  it('verifies an RSA identity key with PKCS#1 v1.5', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const keyFile = join(dataDir, `rsa-${database}.key`);
    writeFileSync(keyFile, privateKeyPem, { mode: 0o600 });
    const csrPem = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=rsa-agent', '-sha256'], { encoding: 'utf8' });
    const held = await enrolledAgent({ privateKeyPem, csrPem });
    const now = new Date(held.notAfter.getTime() + DAY);
    await expect(service.recover((await request(held, now)).req, now)).resolves.toMatchObject({ agentId: held.agentId });
  });

  it('answers malformed requests as such, before touching anything', async () => {
    const held = await enrolledAgent();
    const now = new Date(held.notAfter.getTime() + DAY);
    const ok = (await request(held, now)).req;
    await expectRefused(undefined, () => service.recover({ ...ok, certificatePem: '' }, now), 'certificate_pem) is required', true);
    await expectRefused(undefined, () => service.recover({ ...ok, certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, now), 'not a PEM certificate', true);
    await expectRefused(held.agentId, () => service.recover({ ...ok, signedAt: undefined }, now), 'signed_at is required', true);
    await expectRefused(held.agentId, () => service.recover({ ...ok, proofSignature: Buffer.alloc(0) }, now), 'proof_signature is required', true);
    const hostile = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';
    await expectRefused(held.agentId, () => service.recover({ ...ok, csrPem: hostile }, now), 'CSR refused', true);
  });

  it('refuses every recovery when the grace period is 0', async () => {
    const held = await enrolledAgent();
    const now = new Date(held.notAfter.getTime() + 60_000);
    const strict = new IdentityRecoveryService({ ...config, identityGraceDays: 0 }, ds, ca, agents);
    await expectRefused(held.agentId, async () => strict.recover((await request(held, now)).req, now), 'identity recovery is disabled on this server (CERTFLEET_IDENTITY_GRACE_DAYS=0)');
  });
});

describe('CERTFLEET_IDENTITY_GRACE_DAYS', () => {
  it('defaults to 30 and accepts 0..365', () => {
    expect(loadServerConfig({}).identityGraceDays).toBe(30);
    expect(loadServerConfig({ CERTFLEET_IDENTITY_GRACE_DAYS: '0' }).identityGraceDays).toBe(0);
    expect(loadServerConfig({ CERTFLEET_IDENTITY_GRACE_DAYS: '365' }).identityGraceDays).toBe(365);
    expect(() => loadServerConfig({ CERTFLEET_IDENTITY_GRACE_DAYS: '366' })).toThrow('CERTFLEET_IDENTITY_GRACE_DAYS must be an integer between 0 and 365');
    expect(() => loadServerConfig({ CERTFLEET_IDENTITY_GRACE_DAYS: '-1' })).toThrow('CERTFLEET_IDENTITY_GRACE_DAYS');
  });
});
