// Server-side endpoint monitoring on both databases: targets probed over real TLS on loopback
// (Node TLS servers with openssl-made certificates), observations stored, the served certificate
// linked to the inventory file that holds it, and agents' listener reports.
import 'reflect-metadata';
import { BadRequestException, ConflictException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { probeEndpoint, readCertificateFile } from '@certfleet/pki';
import { EndpointTestPki, startNodeTlsServer } from '../../../../../libs/pki/src/endpoint-probe/testing/endpoint-test-pki';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { Agent } from '../agents/agent.entity';
import { InventoryItem } from '../inventory/inventory-item.entity';
import { probeTargets } from '../../../../agent/src/endpoints/target-probes';
import { listenerProbes } from './agent-endpoint-report';
import { parseTarget } from './endpoint-input';
import { EndpointTarget } from './endpoint-target.entity';
import { EndpointsService } from './endpoints.service';

jest.setTimeout(60_000);

const WEB1 = '11111111-1111-4111-8111-111111111111';
let pki: EndpointTestPki;
const servers: Array<{ port: number; close(): Promise<void> }> = [];
let good: number;
let expired: number;
let caFile: string;

beforeAll(async () => {
  pki = new EndpointTestPki();
  servers.push(await startNodeTlsServer(pki.cases.good), await startNodeTlsServer(pki.cases.expired));
  [good, expired] = servers.map((s) => s.port);
  caFile = pki.root.write('trust.pem', pki.rootPem);
});
afterAll(async () => {
  for (const server of servers) await server.close();
  pki?.remove();
});

describe.each(['pglite', 'postgresql'] as const)('EndpointsService on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let service: EndpointsService;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'endpoints'));
    service = new EndpointsService(ds, loadServerConfig({ CERTFLEET_ENDPOINT_PROBE_MINUTES: '0', CERTFLEET_ENDPOINT_CA_FILE: caFile }));
    await ds.getRepository(Agent).insert({ id: WEB1, hostname: 'web-01', hostFacts: {}, enrolledAt: new Date(), certificateSerial: '01', certificateNotAfter: new Date(Date.now() + 86_400_000) });
    // web-01's inventory holds the good leaf at /etc/nginx/tls/www.pem.
    const der = Buffer.from(pki.cases.good.leaf.raw);
    const [c] = readCertificateFile(der, { path: '/etc/nginx/tls/www.pem', passwords: [] }).certificates;
    await ds.getRepository(InventoryItem).insert({
      agentId: WEB1, itemKey: '/etc/nginx/tls/www.pem|0', kind: 'certificate', path: '/etc/nginx/tls/www.pem', entry: '0', fingerprintSha256: c.fingerprintSha256, subject: c.subject,
      issuer: c.issuer, serial: c.serial, notBefore: c.notBefore ?? null, notAfter: c.notAfter ?? null, detail: {}, der, seenSequence: '1', firstSeenAt: new Date(), updatedAt: new Date(),
    });
  });
  afterAll(() => close?.());

  it('probes due targets once, stores what each serves, and links the served certificate to its file', async () => {
    const www = await service.addTarget(parseTarget({ host: `127.0.0.1:${good}`, serverName: 'www.endpoint.test', agent: 'web-01' }));
    await service.addTarget(parseTarget({ host: '127.0.0.1', port: expired, serverName: 'www.endpoint.test' }));
    const now = new Date();
    expect(await service.runPass(now)).toEqual({ probed: 2, tls: 2, failed: 0 });
    // Claimed: a second pass (another replica) finds nothing due.
    expect(await service.runPass(now)).toEqual({ probed: 0, tls: 0, failed: 0 });
    const rows = await service.observations();
    const [goodRow, expiredRow] = [good, expired].map((port) => rows.find((row) => row.port === port)!);
    expect(goodRow).toMatchObject({
      targetId: www.id, agentId: null, host: '127.0.0.1', port: good, serverName: 'www.endpoint.test', tls: true, protocol: 'TLSv1.3', hostnameMatch: true, chainValid: true,
      chainError: null, ocspStatus: 'good', acceptedVersions: ['TLSv1.2', 'TLSv1.3'], probedBy: 'server',
      leafFingerprintSha256: pki.cases.good.leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
      linkedFiles: [{ agentId: WEB1, hostname: 'web-01', path: '/etc/nginx/tls/www.pem' }],
    });
    expect(goodRow.chain.map((c) => c.subject)).toEqual(expect.arrayContaining(['CN=good']));
    expect(expiredRow).toMatchObject({ port: expired, chainValid: false, chainError: 'CERT_HAS_EXPIRED', linkedFiles: [] });
    expect(expiredRow.notAfter?.toISOString()).toBe('2020-02-01T00:00:00.000Z');
  });

  it('probe-now replaces the observation (one per endpoint), and a closed port is recorded as such', async () => {
    const [target] = (await service.listTargets()).filter((t) => t.port === good);
    expect(await service.probeNow(target.id)).toEqual({ probed: 1, tls: 1, failed: 0 });
    expect((await service.observations()).length).toBe(2);
    // A server that goes away: its observation says so.
    const leaving = await startNodeTlsServer(pki.cases.wrongHost);
    const leavingTarget = await service.addTarget(parseTarget({ host: '127.0.0.1', port: leaving.port, serverName: 'www.endpoint.test' }));
    try {
      await service.probeNow(leavingTarget.id);
    } finally {
      await leaving.close();
    }
    expect((await service.observations({ targetId: leavingTarget.id }))[0]).toMatchObject({ tls: true, hostnameMatch: false, hostnameError: expect.stringContaining('DNS:elsewhere.example') });
    await service.probeNow(leavingTarget.id);
    expect((await service.observations({ targetId: leavingTarget.id }))[0]).toMatchObject({ tls: false, error: 'connection refused', leafFingerprintSha256: null, chain: [] });
    await service.removeTarget(leavingTarget.id);
    expect((await service.observations()).map((o) => o.port).sort()).toEqual([good, expired].sort());
  });

  it('stores agent listener reports per agent, replacing the previous report, linked to the agent inventory', async () => {
    const probe = await probeEndpoint({ host: '127.0.0.1', port: good, serverName: 'www.endpoint.test', trust: { roots: [pki.rootPem] } });
    const silent = { ...probe, port: 1, tls: false, error: 'not TLS (wrong version number)', chain: [], leafFingerprintSha256: null };
    await service.recordAgentListeners(WEB1, [{ probe, process: 'nginx (pid 42)' }, { probe: silent, process: null }]);
    const rows = await service.agentObservations('web-01');
    expect(rows.map((r) => [r.port, r.tls, r.probedBy, r.process])).toEqual([[1, false, 'web-01', null], [good, true, 'web-01', 'nginx (pid 42)']]);
    expect(rows[1].linkedFiles).toEqual([{ agentId: WEB1, hostname: 'web-01', path: '/etc/nginx/tls/www.pem' }]);
    await service.recordAgentListeners(WEB1, [{ probe, process: 'nginx (pid 43)' }]);
    expect((await service.agentObservations(WEB1)).map((r) => [r.port, r.process])).toEqual([[good, 'nginx (pid 43)']]);
    // The server's own observation of the target is untouched.
    expect((await service.observations()).filter((o) => o.agentId === null)).toHaveLength(2);
  });

  it('reads an agent EndpointReport: the chain from its DER, bad reports refused whole', async () => {
    const probe = await probeEndpoint({ host: '127.0.0.1', port: good, serverName: 'www.endpoint.test', trust: { roots: [pki.rootPem] }, testVersions: true });
    const listener = {
      host: '127.0.0.1', port: good, serverName: 'www.endpoint.test', process: 'node (pid 7)', tls: true, error: '', protocol: probe.protocol!, cipher: probe.cipher!,
      chain: probe.chain.map((c) => c.der), hostnameMatch: true, hostnameError: '', chainValid: true, chainError: '', ocspStatus: 'good', acceptedVersions: probe.acceptedVersions!,
    };
    const [read] = listenerProbes({ probedAt: new Date(), listeners: [listener] });
    expect(read.process).toBe('node (pid 7)');
    expect(read.probe).toMatchObject({ leafFingerprintSha256: probe.leafFingerprintSha256, notAfter: probe.notAfter, ocsp: { status: 'good' }, acceptedVersions: ['TLSv1.2', 'TLSv1.3'] });
    expect(read.probe.chain.map((c) => c.subject)).toEqual(probe.chain.map((c) => c.subject));
    expect(() => listenerProbes({ probedAt: new Date(), listeners: [{ ...listener, chain: [Buffer.from('not a certificate')] }] })).toThrow('a served certificate does not parse');
    expect(() => listenerProbes({ probedAt: new Date(), listeners: [{ ...listener, port: 0 }] })).toThrow('bad listener address');
    expect(() => listenerProbes({ probedAt: new Date(), listeners: [{ ...listener, ocspStatus: 'fine' }] })).toThrow('unknown OCSP status');
  });

  it('a target assigned to an agent is probed by that agent, claimed only while it is connected here, and its answers are checked', async () => {
    const connected = new Set<string>();
    const sent: string[] = [];
    // The agent's own probe code answers what the server sends, as its session would.
    service.attachDelivery({
      connected: () => [...connected],
      send: (agentId, message) => {
        if (!connected.has(agentId) || message.payload?.$case !== 'endpointProbe') return false;
        sent.push(agentId);
        void probeTargets(message.payload.value).then((answer) => service.onAgentProbeResults(agentId, answer));
        return true;
      },
    });
    const target = await service.addTarget(parseTarget({ host: 'localhost', port: good, serverName: 'www.endpoint.test', agent: 'web-01', probeFrom: 'web-01' }));
    expect((await service.listTargets()).find((t) => t.id === target.id)).toMatchObject({ probeAgentId: WEB1, probedBy: 'web-01' });
    const later = new Date(Date.now() + 3_600_000);
    // web-01 is not connected: its target stays due, and asking for it by id says why.
    expect(await service.runPass(later)).toMatchObject({ probed: 2 }); // the server's own two targets
    await expect(service.probeNow(target.id)).rejects.toThrow(ConflictException);
    expect(sent).toEqual([]);
    connected.add(WEB1);
    expect(await service.runPass(later)).toEqual({ probed: 1, tls: 1, failed: 0 });
    expect(sent).toEqual([WEB1]);
    const [row] = await service.observations({ targetId: target.id });
    // Validated by the agent against the anchors the server sent; stored under the target's address.
    expect(row).toMatchObject({ agentId: WEB1, probedBy: 'web-01', host: 'localhost', port: good, serverName: 'www.endpoint.test', chainValid: true, hostnameMatch: true });
    expect(row.linkedFiles).toEqual([{ agentId: WEB1, hostname: 'web-01', path: '/etc/nginx/tls/www.pem' }]);
    // Answers nobody asked for are refused.
    expect(() => service.onAgentProbeResults(WEB1, { requestId: 'made-up', results: [] })).toThrow('no endpoint probe request');
    await service.removeTarget(target.id);
  });

  it('refuses bad and duplicate targets with a clear error and stores nothing', async () => {
    const before = await ds.getRepository(EndpointTarget).count();
    expect(() => parseTarget({ host: 'bad host', port: 443 })).toThrow(BadRequestException);
    expect(() => parseTarget({ host: 'a.example', port: 70000 })).toThrow('port must be an integer 1-65535');
    await expect(service.addTarget(parseTarget({ host: '127.0.0.1', port: good, serverName: 'www.endpoint.test' }))).rejects.toThrow(ConflictException);
    await expect(service.addTarget(parseTarget({ host: 'x.example', port: 443, agent: 'nobody' }))).rejects.toThrow('no agent nobody');
    await expect(service.addTarget(parseTarget({ host: 'x.example', port: 443, probeFrom: 'nobody' }))).rejects.toThrow('no agent nobody');
    expect(() => parseTarget({ host: 'x.example', port: 443, probeFrom: 7 })).toThrow('probeFrom must be an agent id or hostname');
    expect(await ds.getRepository(EndpointTarget).count()).toBe(before);
  });
});
