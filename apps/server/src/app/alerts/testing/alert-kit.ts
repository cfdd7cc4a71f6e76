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
