// Test wiring for alert specs: the real services on a test DataSource, a fake clock, a real
// at-rest key for channel secrets, and a loopback HTTP receiver that checks webhook signatures.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { decryptPrivateKey, encryptPrivateKey } from '@certfleet/pki';
import { loadServerConfig } from '../../../config/server-config';
import { Agent } from '../../agents/agent.entity';
import { AuditService } from '../../audit/audit.service';
import { InventoryItem } from '../../inventory/inventory-item.entity';
import { ChannelsService, SecretBox } from '../../notifications/channels.service';
import { webhookSignature } from '../../notifications/channels/webhook.channel';
import { DeliveryWorker } from '../../notifications/delivery-worker';
import { OwnershipService } from '../../ownership/ownership.service';
import { AlertEvaluator } from '../alert-evaluator';
import { AlertsService } from '../alerts.service';
import { FakeClock } from '../clock';
import { StaticPolicyFindings } from '../policy-findings';
import { createKeyAndCsrFor, readCertificateFile } from '@certfleet/pki';
import { JobOutcome, type InventoryItem as ReportedItem } from '@certfleet/proto';
import { queryRows } from '../../../database/query-rows';
import { AgentsService } from '../../agents/agents.service';
import { FleetCaService } from '../../fleet-ca/fleet-ca.service';
import { InventoryReportService } from '../../inventory/inventory-report.service';
import { IssuingCasService } from '../../issuing-cas/issuing-cas.service';
import { PkiUrls } from '../../issuing-cas/pki-urls';
import { CertificateJob } from '../../jobs/certificate-job.entity';
import { JobsService } from '../../jobs/jobs.service';
import { ManagedCertificatesService } from '../../managed/managed-certificates.service';
import { CrlPublisher } from '../../revocation/crl-publisher.service';
import { OcspResponder } from '../../revocation/ocsp-responder.service';
import { RevocationEvents } from '../../revocation/revocation-events.service';
import { RevocationService } from '../../revocation/revocation.service';
import { ServerConfig } from '../../../config/server-config';
import { openTestDataSource, TestDatabaseKind } from '../../../database/test-database';

export const DAY = 86_400_000;

export function alerting(ds: DataSource, clock: FakeClock, env: Record<string, string> = {}) {
  const config = loadServerConfig({ CERTFLEET_DATA_DIR: mkdtempSync(join(tmpdir(), 'cf-alert-cfg-')), CERTFLEET_SERVER_COMMANDS: '/bin/sh', ...env });
  const audit = new AuditService(ds);
  const key = randomBytes(32);
  const secrets: SecretBox = { sealPrivateKey: (v) => encryptPrivateKey(v, key), openPrivateKey: (v) => decryptPrivateKey(v, key) };
  const ownership = new OwnershipService(ds, audit);
  const channels = new ChannelsService(ds, secrets as never, audit, config);
  const findings = new StaticPolicyFindings();
  return {
    config,
    ownership,
    channels,
    findings,
    evaluator: new AlertEvaluator(ds, ownership, config, clock, findings),
    delivery: new DeliveryWorker(ds, channels, config, clock),
    alerts: new AlertsService(ds, audit, clock),
  };
}

export async function addAgent(ds: DataSource, hostname: string, labels: Record<string, string> = {}, lastSeenAt = new Date()): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(Agent).insert({ id, hostname, hostFacts: {}, enrolledAt: lastSeenAt, lastSeenAt, certificateSerial: randomBytes(8).toString('hex'), certificateNotAfter: new Date(Date.now() + 30 * DAY), labels });
  return id;
}

/** An inventory certificate row as a discovery report leaves it (only the fields alerts read). */
export async function addCertificate(ds: DataSource, agentId: string, o: { name: string; path: string; notAfter: Date }): Promise<string> {
  const fp = createHash('sha256').update(`${o.name}|${o.notAfter.toISOString()}|${randomUUID()}`).digest('hex');
  await ds.getRepository(InventoryItem).insert({
    agentId,
    itemKey: `${o.path}#0`,
    kind: 'certificate',
    path: o.path,
    entry: '0',
    fingerprintSha256: fp,
    subject: `CN=${o.name}`,
    issuer: 'CN=Test CA',
    serial: fp.slice(0, 16),
    notBefore: new Date(o.notAfter.getTime() - 90 * DAY),
    notAfter: o.notAfter,
    detail: JSON.parse(JSON.stringify({ dnsNames: [o.name], isCa: false, selfSigned: false })),
    der: null,
    seenSequence: '1',
    firstSeenAt: new Date(),
    updatedAt: new Date(),
  });
  return fp;
}

export interface ReceivedRequest {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

/**
 * A webhook receiver on loopback: rejects requests whose signature does not verify (401), answers
 * 500 to the first `failFirst` good ones, records the rest. `hang` paths never answer.
 */
export async function webhookReceiver(hmacKey: string, options: { failFirst?: number; hang?: boolean } = {}) {
  const received: ReceivedRequest[] = [];
  const rejected: string[] = [];
  let failures = options.failFirst ?? 0;
  const open = new Set<IncomingMessage>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (options.hang) return void open.add(req);
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers['x-certfleet-timestamp'] ?? '');
      if (req.headers['x-certfleet-signature'] !== webhookSignature(hmacKey, ts, body)) {
        rejected.push(body);
        return void res.writeHead(401).end('bad signature');
      }
      if (failures > 0) {
        failures--;
        return void res.writeHead(500).end('try later');
      }
      received.push({ path: req.url ?? '/', body: body ? JSON.parse(body) : {}, at: Date.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    rejected,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

export type Receiver = Awaited<ReturnType<typeof webhookReceiver>>;

/**
 * Two webhook channels on loopback receivers, "team" (role all) and "oncall" (role escalation:
 * critical alerts only), and `pass`: one evaluation at the clock's time (with `evaluator`, by
 * default the kit's), then every due delivery sent; what each receiver got in it, sorted, as
 * "event:kind:subjectKey:stageLabel".
 */
export async function teamAndOncall(kit: ReturnType<typeof alerting>, hmacKey = 'alert-kinds-hmac-key-0123456789') {
  const [team, oncall] = await Promise.all([webhookReceiver(hmacKey), webhookReceiver(hmacKey)]);
  await kit.channels.add({ name: 'team', type: 'webhook', role: 'all', settings: { url: team.url }, secret: hmacKey }, 'test');
  await kit.channels.add({ name: 'oncall', type: 'webhook', role: 'escalation', settings: { url: oncall.url }, secret: hmacKey }, 'test');
  const heard = (r: Receiver, from: number) => r.received.slice(from).map((x) => `${x.body.event}:${x.body.kind}:${x.body.subjectKey}:${x.body.stageLabel}`).sort();
  return {
    team,
    oncall,
    async pass(evaluator: Pick<AlertEvaluator, 'evaluate'> = kit.evaluator): Promise<{ team: string[]; oncall: string[] }> {
      const before = [team.received.length, oncall.received.length];
      await evaluator.evaluate();
      await kit.delivery.deliverDue();
      return { team: heard(team, before[0]), oncall: heard(oncall, before[1]) };
    },
    close: async () => void (await Promise.all([team.close(), oncall.close()])),
  };
}

/** The server's certificate services on `ds`, wired as their modules wire them (the fleet CA initialised). */
export async function certificateServices(ds: DataSource, config: ServerConfig) {
  const audit = new AuditService(ds);
  const fleetCa = new FleetCaService(config, ds);
  await fleetCa.onModuleInit();
  const cas = new IssuingCasService(config, ds, fleetCa, audit, new PkiUrls(config));
  const managed = new ManagedCertificatesService(config, ds, cas, audit);
  const crls = new CrlPublisher(config, ds, cas);
  const ocsp = new OcspResponder(config, ds, cas);
  return {
    audit,
    cas,
    managed,
    crls,
    ocsp,
    jobs: new JobsService(config, ds, cas, managed, audit),
    revocations: new RevocationService(ds, audit, crls, ocsp, new RevocationEvents(config, ocsp)),
    agents: new AgentsService(ds, config, fleetCa),
    inventory: new InventoryReportService(ds),
  };
}

export interface InstalledFile {
  path: string;
  /** PEM or DER: every certificate in it is reported, as discovery reads the file. */
  content: string | Buffer;
}

/** Inventory items for these files, keyed as the agent keys them (location + fingerprint). */
export function scannedItems(files: InstalledFile[]): ReportedItem[] {
  return files.flatMap(({ path, content }) =>
    readCertificateFile(Buffer.isBuffer(content) ? content : Buffer.from(content), { path, passwords: [] }).certificates.map(({ publicKeySha256: _spki, ...c }) => ({
      key: `cert:${path}#${c.entry}|${c.fingerprintSha256}`,
      item: { $case: 'certificate' as const, value: c },
    })),
  );
}

/**
 * The agent's next inventory report: `install` files found, `remove` files gone (a first report is
 * the full sync a new agent starts with). Applied by the report service, which also marks the
 * agent seen.
 */
export async function reportInventory(reports: InventoryReportService, ds: DataSource, agentId: string, change: { install?: InstalledFile[]; remove?: InstalledFile[] }): Promise<void> {
  const [{ applied }] = queryRows<{ applied: string }>(await ds.query(`SELECT "applied_sequence"::text AS "applied" FROM "agents" WHERE "id" = $1`, [agentId]));
  const first = applied === '0';
  const upserts = scannedItems(change.install ?? []);
  // A certificate in both (a CA certificate in the old and the new full chain) stays.
  const kept = new Set(upserts.map((i) => i.key));
  const ack = await reports.apply(agentId, {
    sequence: BigInt(applied) + 1n,
    fullSyncStart: first,
    fullSyncEnd: first,
    upserts,
    removedKeys: scannedItems(change.remove ?? []).map((i) => i.key).filter((key) => !kept.has(key)),
    scannedAt: undefined,
    stats: undefined,
  });
  if (ack.error || ack.fullSyncRequired) throw new Error(`inventory report of ${agentId} refused: ${ack.error || 'full sync required'}`);
}

/**
 * The agent's side of the open job of a managed certificate (made due with `dueAt`): a fresh key and
 * CSR for the profile's names, then the result it reports. `failed`: the install failed at that
 * stage with that error. Returns the job and, when issued, the certificate with its chain.
 */
export async function runDueJob(
  services: Pick<Awaited<ReturnType<typeof certificateServices>>, 'jobs'>,
  ds: DataSource,
  managed: { id: string; agentId: string; profile: { dnsNames: string[]; ipAddresses: string[] } },
  dueAt: Date,
  failed?: { stage: string; error: string },
): Promise<{ job: CertificateJob; fullchainPem: string | null }> {
  await services.jobs.createDueJobs(dueAt);
  const job = await ds.getRepository(CertificateJob).findOneByOrFail({ managedCertificateId: managed.id, state: 'queued' });
  const { csrPem } = await createKeyAndCsrFor({ keyType: 'ec-p256', dnsNames: managed.profile.dnsNames, ipAddresses: managed.profile.ipAddresses });
  const answer = await services.jobs.handleCsr(managed.agentId, { jobId: job.id, csrPem });
  if (answer.payload?.$case !== 'jobCertificate') throw new Error(`job ${job.id} got no certificate: ${JSON.stringify(answer.payload)}`);
  const outcome = failed ? JobOutcome.JOB_OUTCOME_FAILED : JobOutcome.JOB_OUTCOME_SUCCEEDED;
  await services.jobs.handleResult(managed.agentId, { jobId: job.id, outcome, stage: failed?.stage ?? 'done', error: failed?.error ?? '', installedSerial: '', durationMs: 40 });
  return { job, fullchainPem: failed ? null : `${answer.payload.value.certificatePem.trim()}\n${answer.payload.value.chainPem}` };
}

/**
 * A fresh test database with the alerting kit (`env`: CERTFLEET_* settings), the team and on-call
 * receivers and the certificate services; `close` stops the receivers and drops the database.
 */
export async function openAlerting(database: TestDatabaseKind, label: string, clock: FakeClock, env: Record<string, string> = {}) {
  const { ds, close } = await openTestDataSource(database, label);
  const kit = alerting(ds, clock, env);
  const hooks = await teamAndOncall(kit);
  const services = await certificateServices(ds, kit.config);
  return { ds, kit, hooks, services, close: async () => (await hooks.close(), await close()) };
}

export type OpenAlerting = Awaited<ReturnType<typeof openAlerting>>;
