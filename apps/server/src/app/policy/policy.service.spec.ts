import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CertMaker } from '../../../../../libs/policy/src/rules/openssl-cert-kit';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { AuditService } from '../audit/audit.service';
import { InventoryItem } from '../inventory/inventory-item.entity';
import { addAgent, addCertificates, inventoryRow } from './inventory-fixture';
import { PolicyService } from './policy.service';

jest.setTimeout(120_000);

const WEB1 = '11111111-1111-4111-8111-111111111111';
const WEB2 = '22222222-2222-4222-8222-222222222222';
const P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

let maker: CertMaker;
const der: Record<string, Buffer> = {};
let sharedKeyFile = '';

beforeAll(() => {
  maker = new CertMaker();
  const ca = maker.ca('/CN=Example Issuing CA');
  sharedKeyFile = maker.key(P256);
  der.weak = maker.make({ key: ['genrsa', '1024'], digest: 'sha1', subject: '/CN=legacy.example.com' });
  der.good = maker.make({ ca, sans: ['DNS:www.example.com'], days: 90 });
  der.sharedA = maker.make({ ca, key: { file: sharedKeyFile }, sans: ['DNS:a.example.com'], days: 90 });
  der.sharedB = maker.make({ ca, key: { file: sharedKeyFile }, sans: ['DNS:b.example.com'], days: 90 });
});
afterAll(() => maker.remove());

describe.each(['pglite', 'postgresql'] as const)('PolicyService on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let service: PolicyService;
  const findings = async () => (await service.findings()).items.map((f) => `${name(f.fingerprintSha256)} ${f.ruleId} ${f.severity}`).sort();
  const name = (fp: string) => Object.entries(der).find(([, d]) => inventoryRow(WEB1, '/x', d).fingerprintSha256 === fp)?.[0] ?? fp;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'policy'));
    service = new PolicyService(ds, loadServerConfig({ CERTFLEET_POLICY_PASS_SECONDS: '0' }), new AuditService(ds));
    await addAgent(ds, WEB1, 'web-01');
    await addAgent(ds, WEB2, 'web-02');
    await addCertificates(ds, [
      inventoryRow(WEB1, '/etc/ssl/legacy.pem', der.weak),
      inventoryRow(WEB2, '/etc/ssl/legacy.pem', der.weak), // the same certificate on a second host
      inventoryRow(WEB1, '/etc/nginx/www.pem', der.good),
      inventoryRow(WEB1, '/etc/nginx/a.pem', der.sharedA),
      inventoryRow(WEB2, '/srv/b.pem', der.sharedB),
    ]);
  });
  afterAll(async () => close?.());

  it('applies the baseline until a policy is set, and finds the weak certificate once for both hosts', async () => {
    expect(await service.active()).toMatchObject({ source: 'default', policy: { name: 'baseline' } });
    expect(await service.runPass()).toMatchObject({ certificates: 5, findings: 2, removed: 0 });
    expect(await findings()).toEqual(['weak no-weak-signatures critical', 'weak rsa-2048 critical']);
    const [first] = (await service.findings({ ruleId: 'rsa-2048' })).items;
    expect(first).toMatchObject({ hosts: 2, subject: 'CN=legacy.example.com', blockIssuance: true, message: 'RSA key of 1024 bits is below the minimum of 2048 bits' });
  });

  it('public-tls adds key reuse (from SPKI hashes derived from the DER), self-signed and missing SANs', async () => {
    const { policy, pass } = await service.set({ preset: 'public-tls' }, 'admin');
    expect(policy).toMatchObject({ source: 'stored', updatedBy: 'admin', policy: { name: 'public-tls' } });
    expect(pass).toMatchObject({ certificates: 5 });
    expect(await findings()).toEqual([
      'sharedA key-reuse warning',
      'sharedB key-reuse warning',
      'weak no-weak-signatures critical',
      'weak rsa-2048 critical',
      'weak san-required critical',
      'weak self-signed warning',
    ]);
    expect((await service.findings({ severity: 'warning' })).total).toBe(3);
    expect((await ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'policy.set'`))[0].n).toBe(1);
  });

  it('keeps first-seen across passes and drops findings that no longer hold', async () => {
    const before = (await service.findings({ ruleId: 'key-reuse' })).items.map((f) => f.firstSeenAt.getTime());
    await ds.getRepository(InventoryItem).delete({ agentId: WEB2, path: '/srv/b.pem' });
    await ds.getRepository(InventoryItem).delete({ path: '/etc/ssl/legacy.pem' });
    expect(await service.runPass()).toMatchObject({ certificates: 2, findings: 0, removed: 6 });
    expect(await findings()).toEqual([]);
    await addCertificates(ds, [inventoryRow(WEB2, '/srv/b.pem', der.sharedB)]);
    await service.runPass();
    const after = await service.findings({ ruleId: 'key-reuse' });
    expect(after.total).toBe(2);
    expect(after.items.every((f) => f.lastSeenAt >= f.firstSeenAt)).toBe(true);
    expect(before).toHaveLength(2);
  });

  it('refuses a bad policy with every reason and keeps the active one', async () => {
    await expect(service.set({ name: 'x', rules: [{ id: 'r', type: 'min-rsa-bits', bits: 'big', severity: 'critical' }] }, 'admin')).rejects.toThrow(BadRequestException);
    await expect(service.set({ preset: 'nope' }, 'admin')).rejects.toThrow('unknown preset "nope" (known: baseline, public-tls)');
    expect((await service.active()).policy.name).toBe('public-tls');
  });

  it('finds weak TLS on endpoints as a finding on the certificate they serve', async () => {
    const fp = (d: Buffer) => inventoryRow(WEB1, '/x', d).fingerprintSha256!;
    const observe = (key: string, port: number, leaf: string, versions: string[]) =>
      ds.query(
        `INSERT INTO endpoint_observations (observation_key, host, port, tls, chain, leaf_fingerprint_sha256, hostname_match, chain_valid, accepted_versions, probed_at, probed_by)
         VALUES ($1, '127.0.0.1', $2, true, '[]', $3, true, true, $4, now(), 'test')`,
        [key, port, leaf, JSON.stringify(versions)],
      );
    await observe('old-tls', 8443, fp(der.good), ['TLSv1', 'TLSv1.2']);
    await observe('modern-tls', 9443, fp(der.sharedA), ['TLSv1.2', 'TLSv1.3']);
    try {
      await service.runPass();
      const tls = (await service.findings({ ruleId: 'tls-1.2' })).items;
      expect(tls.map((f) => name(f.fingerprintSha256))).toEqual(['good']);
      expect(tls[0].message).toMatch(/TLSv1\b/);
    } finally {
      await ds.query(`DELETE FROM endpoint_observations WHERE observation_key IN ('old-tls', 'modern-tls')`);
    }
    await service.runPass();
    expect((await service.findings({ ruleId: 'tls-1.2' })).total).toBe(0);
  });

  it('blocks issuance of a managed certificate that a blocking rule refuses', async () => {
    const profile = { keyType: 'ec-p256' as const, dnsNames: ['www.example.com'], ipAddresses: [], validityDays: 90, usages: ['tls-server' as const] };
    const notBefore = new Date('2027-06-01T00:00:00Z');
    expect(await service.issuanceBlockers({ profile, notBefore })).toEqual([]);
    expect(await service.issuanceBlockers({ profile: { ...profile, validityDays: 180 }, notBefore })).toEqual([
      expect.objectContaining({ ruleId: 'cab-validity', blockIssuance: true, message: 'valid for 180 days, more than the 100 allowed for certificates issued on 2027-06-01' }),
    ]);
    // A policy that refuses a key already in the inventory (the SPKI hash the server derived).
    await service.set({ name: 'strict', rules: [{ id: 'fresh-keys', type: 'key-reuse', severity: 'critical', blockIssuance: true }] }, 'admin');
    const [{ public_key_sha256: inUse }] = await ds.query(`SELECT public_key_sha256 FROM certificate_public_keys WHERE fingerprint_sha256 = $1`, [inventoryRow(WEB1, '/x', der.good).fingerprintSha256]);
    expect(await service.issuanceBlockers({ profile, publicKeySha256: inUse })).toEqual([expect.objectContaining({ ruleId: 'fresh-keys', message: 'the same key is in 1 other certificate' })]);
    expect(await service.issuanceBlockers({ profile, publicKeySha256: 'f'.repeat(64) })).toEqual([]);
  });
});
