// Test-only: inventory rows as an agent's report stores them (discovery's finding as detail, the DER
// apart, no SPKI hash), for certificates made by openssl. Shared by the policy, reports and metrics specs.
import { readCertificateFile } from '@certfleet/pki';
import { DataSource } from 'typeorm';
import { Agent } from '../agents/agent.entity';
import { InventoryItem } from '../inventory/inventory-item.entity';

export async function addAgent(ds: DataSource, id: string, hostname: string, lastSeenAt: Date | null = new Date()): Promise<void> {
  await ds.getRepository(Agent).insert({ id, hostname, hostFacts: {}, enrolledAt: new Date(), lastSeenAt, certificateSerial: id.slice(0, 8), certificateNotAfter: new Date(Date.now() + 86_400_000) });
}

export function inventoryRow(agentId: string, path: string, der: Buffer, entry = '0'): InventoryItem {
  const [c] = readCertificateFile(der, { path, passwords: [] }).certificates;
  if (!c) throw new Error(`${path}: not a certificate`);
  const { der: _der, publicKeySha256: _spki, file: _file, ...finding } = c;
  const now = new Date();
  return {
    agentId, itemKey: `${path}|${entry}|${c.fingerprintSha256}`, kind: 'certificate', path, entry, fingerprintSha256: c.fingerprintSha256,
    subject: c.subject, issuer: c.issuer, serial: c.serial, notBefore: c.notBefore ?? null, notAfter: c.notAfter ?? null,
    detail: JSON.parse(JSON.stringify({ ...finding, file: { path, owner: 'root', mode: 0o644 } })), der, seenSequence: '1', firstSeenAt: now, updatedAt: now,
  };
}

export async function addCertificates(ds: DataSource, rows: InventoryItem[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await ds.getRepository(InventoryItem).insert(rows.slice(i, i + 500));
}
