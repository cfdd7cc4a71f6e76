import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createRootCa, signIntermediate } from '@certfleet/pki';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { Agent } from '../agents/agent.entity';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { PkiUrls } from '../issuing-cas/pki-urls';
import { JobsService } from '../jobs/jobs.service';
import { RenewalScheduler } from '../jobs/renewal-scheduler';
import { ManagedCertificate } from '../managed/managed-certificate.entity';
import { ManagedCertificatesService } from '../managed/managed-certificates.service';
import { CrlPublisher } from '../revocation/crl-publisher.service';
import { OcspResponder } from '../revocation/ocsp-responder.service';
import { RevocationEvents } from '../revocation/revocation-events.service';
import { RevocationService } from '../revocation/revocation.service';
import { BreakglassCampaign } from './breakglass-campaign.entity';
import { BreakglassService } from './breakglass.service';
import { campaignProgress } from './campaign-progress';
import { CampaignWorker } from './campaign-worker';

jest.setTimeout(120_000);

const WEB1 = '44444444-4444-4444-8444-444444444441';
const WEB2 = '44444444-4444-4444-8444-444444444442';
const dir = mkdtempSync(join(tmpdir(), 'cf-breakglass-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An inventory row as an agent's report would leave it (the fields campaigns select on). */
function inventoryRow(agentId: string, key: string, pem: string, detail: Record<string, unknown>) {
  const cert = new X509Certificate(pem);
  return {
    agentId,
    itemKey: key,
    kind: 'certificate' as const,
    path: `/etc/ssl/${key}.pem`,
    entry: '',
    fingerprintSha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
    subject: cert.subject,
    issuer: cert.issuer,
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    detail: { isCa: false, ...detail },
    der: cert.raw,
    seenSequence: '1',
    firstSeenAt: new Date(),
    updatedAt: new Date(),
  };
}

describe.each(['pglite', 'postgresql'] as const)('break-glass campaigns on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let cas: IssuingCasService;
  let breakglass: BreakglassService;
  let worker: CampaignWorker;
  let scheduler: RenewalScheduler;
  let managedId: string;
  let managedSerial: string;
  let offlineRoot: Awaited<ReturnType<typeof createRootCa>>;
  let caId: string;
  let caKeyId: string;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'breakglass'));
    const config = loadServerConfig({ CERTFLEET_DATA_DIR: join(dir, database), CERTFLEET_PUBLIC_URL: 'http://pki.test' });
    const fleetCa = new FleetCaService(config, ds);
    await fleetCa.onModuleInit();
    const audit = new AuditService(ds);
    cas = new IssuingCasService(config, ds, fleetCa, audit, new PkiUrls(config));
    const crls = new CrlPublisher(config, ds, cas);
    const ocsp = new OcspResponder(config, ds, cas);
    const revocations = new RevocationService(ds, audit, crls, ocsp, new RevocationEvents(config, ocsp));
    const managed = new ManagedCertificatesService(config, ds, cas, audit);
    scheduler = new RenewalScheduler(config, new JobsService(config, ds, cas, managed, audit));
    breakglass = new BreakglassService(config, ds, cas, revocations, audit);
    worker = new CampaignWorker(ds, breakglass, scheduler, audit);
    for (const [id, hostname] of [[WEB1, 'web-01'], [WEB2, 'web-02']]) {
      await ds.getRepository(Agent).insert({ id, hostname, hostFacts: {}, enrolledAt: new Date(), certificateSerial: id.slice(-2), certificateNotAfter: new Date(Date.now() + 86_400_000) });
    }
    // An issuing CA whose root is offline (its key is nowhere on the server).
    offlineRoot = await createRootCa({ commonName: 'Offline Root' });
    const pending = await cas.create('shop-ca', 'P-256', 'token:test');
    const ca = await cas.importCertificate(pending.id, await signIntermediate(offlineRoot, pending.csrPem!), offlineRoot.certificatePem, 'token:test');
    caId = ca.id;
    const loaded = cas.loadedCa(await ds.getRepository(IssuingCa).findOneByOrFail({ id: caId }));
    if (loaded instanceof Error) throw loaded;
    caKeyId = loaded.subjectKeyIdentifier.toString('hex');

    // web-01 manages www.shop.test; the same certificate was also copied by hand onto web-02.
    const mc = await managed.create({ name: 'shop', agentId: WEB1, issuer: caId, profile: { dnsNames: ['www.shop.test'], ipAddresses: [], validityDays: 30 }, targets: [{ kind: 'fullchain-pem', path: '/srv/shop/f.pem', keyPath: '/srv/shop/k.pem' }] }, 'token:test');
    managedId = mc.id;
    const [issued] = await ds.transaction((m) =>
      cas.issueMany(m, [{ caId, publicKeySpki: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }), jobId: null, managedCertificateId: managedId, profile: { dnsNames: ['www.shop.test'], ipAddresses: [], validityDays: 30, usages: ['tls-server'] } }]),
    );
    if (issued instanceof Error) throw issued;
    managedSerial = issued.leaf.serialHex;
    await ds.getRepository(ManagedCertificate).update({ id: managedId }, { status: 'active', currentSerial: managedSerial, currentFingerprint: issued.leaf.fingerprintSha256, nextRenewalAt: new Date(Date.now() + 86_400_000) });
    const ours = { dnsNames: ['www.shop.test'], keyAlgorithm: 'EC', keySize: 256, signatureAlgorithm: 'ecdsa-with-SHA256', authorityKeyId: caKeyId };
    // web-02 also has a legacy certificate from an external CA: RSA-1024, SHA-1, made by openssl.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:1024', '-sha1', '-nodes', '-keyout', join(dir, 'legacy.key'), '-out', join(dir, `legacy-${database}.pem`), '-subj', '/CN=legacy.shop.test', '-days', '30'], { stdio: 'pipe' });
    const legacy = readFileSync(join(dir, `legacy-${database}.pem`), 'utf8');
    await ds.getRepository('InventoryItem').insert([
      inventoryRow(WEB1, 'shop', issued.leaf.certificatePem, ours),
      inventoryRow(WEB2, 'shop-copy', issued.leaf.certificatePem, ours),
      inventoryRow(WEB2, 'legacy', legacy, { dnsNames: ['legacy.shop.test'], keyAlgorithm: 'RSA', keySize: 1024, signatureAlgorithm: 'sha1WithRSAEncryption', authorityKeyId: '' }),
    ]);
  });
  afterAll(async () => {
    worker?.onApplicationShutdown();
    scheduler?.onApplicationShutdown();
    await close?.();
  });

  it('plans by SAN pattern, CA key, weak key or SHA-1: managed holders replaced, other copies listed for manual action', async () => {
    for (const selector of [{ san: '*.shop.test' }, { caKey: caKeyId.match(/../g)!.join(':').toUpperCase() }, { serials: [managedSerial] }]) {
      const plan = await breakglass.plan(selector);
      expect(plan.compromisedCa).toBeNull();
      expect(plan.toRevoke).toBe(1);
      expect(plan.replace).toEqual([expect.objectContaining({ agentId: WEB1, managedCertificateId: managedId, serial: managedSerial })]);
      const manual = plan.manual.filter((m) => m.serial === managedSerial);
      expect(manual).toEqual([expect.objectContaining({ agentId: WEB2, hostname: 'web-02', path: '/etc/ssl/shop-copy.pem', issuedByCertfleet: true })]);
    }
    expect((await breakglass.plan({ san: '*.shop.test' })).manual.map((m) => m.path).sort()).toEqual(['/etc/ssl/legacy.pem', '/etc/ssl/shop-copy.pem']);
    for (const selector of [{ keyAlgorithm: 'rsa', keyBitsBelow: 2048 }, { signatureAlgorithm: 'SHA1' }]) {
      const plan = await breakglass.plan(selector);
      expect(plan.toRevoke).toBe(0);
      expect(plan.replace).toEqual([]);
      expect(plan.manual).toEqual([expect.objectContaining({ hostname: 'web-02', path: '/etc/ssl/legacy.pem', issuedByCertfleet: false })]);
      expect(plan.hosts).toEqual([{ hostname: 'web-02', agentId: WEB2, replace: 0, manual: 1 }]);
    }
    await expect(breakglass.plan({})).rejects.toThrow(/a selector is required/);
    await expect(breakglass.plan({ color: 'red' })).rejects.toThrow(/unknown selector field/);
    await expect(breakglass.plan({ serials: ['xyz'] })).rejects.toThrow(/not a hex serial/);
    await expect(breakglass.plan({ san: "x' OR 1=1" })).rejects.toThrow(/DNS name pattern/);
    // Plans change nothing.
    expect((await ds.getRepository(IssuedCertificate).findOneByOrFail({ serial: managedSerial })).revokedAt).toBeNull();
  });

  it('waits for the offline root to sign the replacement CA, then rotates, revokes, replaces and completes', async () => {
    await expect(breakglass.run({ issuer: 'shop-ca' }, {}, 'token:test')).rejects.toThrow(/confirm it explicitly/);
    const campaign = await breakglass.run({ issuer: 'shop-ca' }, { confirm: true }, 'token:test');
    expect(campaign.status).toBe('waiting-for-ca');
    expect(campaign.reason).toBe('caCompromise');
    await expect(breakglass.run({ issuer: 'shop-ca' }, { confirm: true }, 'token:test')).rejects.toThrow(/already waiting-for-ca/);
    // Nothing is revoked until the replacement can sign.
    await worker.tick();
    expect((await ds.getRepository(IssuedCertificate).findOneByOrFail({ serial: managedSerial })).revokedAt).toBeNull();
    expect((await ds.getRepository(IssuingCa).findOneByOrFail({ id: caId })).status).toBe('active');

    const replacement = await ds.getRepository(IssuingCa).findOneByOrFail({ id: campaign.replacementCaId! });
    expect(replacement.status).toBe('pending');
    await cas.importCertificate(replacement.id, await signIntermediate(offlineRoot, replacement.csrPem), offlineRoot.certificatePem, 'token:offline-admin');
    await worker.tick();

    const running = await campaignProgress(ds, campaign.id, false);
    expect(running.campaign.status).toBe('running');
    expect(running.campaign.revokedCount).toBe(1);
    expect(running.counts).toEqual(expect.objectContaining({ replacing: 1, manual: 1, validated: 0, total: 2 }));
    expect((await ds.getRepository(IssuingCa).findOneByOrFail({ id: caId })).status).toBe('revoked');
    const revoked = await ds.getRepository(IssuedCertificate).findOneByOrFail({ serial: managedSerial });
    expect(revoked.revocationReason).toBe('caCompromise');
    const mc = await ds.getRepository(ManagedCertificate).findOneByOrFail({ id: managedId });
    expect(mc.issuingCaId).toBe(replacement.id);
    expect(mc.replacementRequestedAt).toBeInstanceOf(Date);

    // The agent's job result, as JobsService.finishBatch records it: a new serial, replacement settled.
    await ds.getRepository(ManagedCertificate).update({ id: managedId }, { currentSerial: 'abcdef01', replacementRequestedAt: null });
    await worker.tick();
    const done = await campaignProgress(ds, campaign.id, true);
    expect(done.campaign.status).toBe('completed');
    expect(done.percent).toBe(100);
    expect(done.secondsTo100).toBeGreaterThanOrEqual(0);
    expect(done.items).toEqual([
      expect.objectContaining({ hostname: 'web-01', state: 'validated', oldSerial: managedSerial, newSerial: 'abcdef01' }),
      expect.objectContaining({ hostname: 'web-02', state: 'manual', location: '/etc/ssl/shop-copy.pem', oldSerial: managedSerial }),
    ]);
    expect(await ds.getRepository(BreakglassCampaign).countBy({ status: 'completed' })).toBe(1);
  });
});
