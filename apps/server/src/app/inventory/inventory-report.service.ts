import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { InventoryItem as ProtoItem, InventoryReport, ReportAck } from '@certfleet/proto';
import { toJsonObject } from '../../common/json';
import { Agent } from '../agents/agent.entity';
import { InventoryItem } from './inventory-item.entity';

const UPSERT_BATCH = 500;
const UPDATED_COLUMNS = [
  'kind', 'path', 'entry', 'fingerprint_sha256', 'subject', 'issuer', 'serial',
  'not_before', 'not_after', 'detail', 'der', 'seen_sequence', 'updated_at',
];

/**
 * Applies an agent's inventory reports. Reports are applied in sequence order exactly once; a
 * repeated report is acknowledged and ignored, a gap asks the agent for a full sync.
 */
@Injectable()
export class InventoryReportService {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  apply(agentId: string, report: InventoryReport): Promise<ReportAck> {
    const seq = report.sequence;
    return this.ds.transaction(async (m) => {
      const agent = await m
        .getRepository(Agent)
        .createQueryBuilder('a')
        .setLock('pessimistic_write')
        .where('a.id = :id', { id: agentId })
        .getOne();
      if (!agent) return { sequence: seq, fullSyncRequired: false, error: 'unknown agent' };
      const applied = BigInt(agent.appliedSequence);
      if (seq <= applied) return { sequence: seq, fullSyncRequired: false, error: '' };

      const inFullSync = agent.fullSyncSequence !== null;
      if (!report.fullSyncStart && (seq !== applied + 1n || (agent.fullSyncRequired && !inFullSync))) {
        return { sequence: seq, fullSyncRequired: true, error: `cannot apply report ${seq} after ${applied}` };
      }
      const fullSyncSequence = report.fullSyncStart ? seq : inFullSync ? BigInt(agent.fullSyncSequence!) : null;

      await this.upsert(m, agentId, seq, report.upserts);
      if (report.removedKeys.length > 0) {
        await m.query('DELETE FROM inventory_items WHERE agent_id = $1 AND item_key = ANY($2)', [agentId, report.removedKeys]);
      }
      const patch: QueryDeepPartialEntity<Agent> = {
        appliedSequence: seq.toString(),
        lastSeenAt: new Date(),
        fullSyncSequence: fullSyncSequence?.toString() ?? null,
      };
      if (report.fullSyncEnd && fullSyncSequence !== null) {
        // Whatever the full sync did not mention is gone from the host.
        await m.query('DELETE FROM inventory_items WHERE agent_id = $1 AND seen_sequence < $2', [
          agentId,
          fullSyncSequence.toString(),
        ]);
        patch.fullSyncSequence = null;
        patch.fullSyncRequired = false;
      }
      if (report.scannedAt) patch.lastScanAt = report.scannedAt;
      await m.getRepository(Agent).update({ id: agentId }, patch);
      return { sequence: seq, fullSyncRequired: false, error: '' };
    });
  }

  private async upsert(m: EntityManager, agentId: string, seq: bigint, items: ProtoItem[]): Promise<void> {
    const now = new Date();
    // A report may name a key twice only by mistake; keep the last so one statement stays valid.
    const byKey = new Map(items.map((i) => [i.key, i]));
    const rows = [...byKey.values()].map((item) => toRow(agentId, seq, item, now));
    for (let i = 0; i < rows.length; i += UPSERT_BATCH) {
      await m
        .createQueryBuilder()
        .insert()
        .into(InventoryItem)
        .values(rows.slice(i, i + UPSERT_BATCH))
        .orUpdate(UPDATED_COLUMNS, ['agent_id', 'item_key'])
        .updateEntity(false)
        .execute();
    }
  }
}

function toRow(agentId: string, seq: bigint, item: ProtoItem, now: Date): QueryDeepPartialEntity<InventoryItem> {
  const base = { agentId, itemKey: item.key, seenSequence: seq.toString(), firstSeenAt: now, updatedAt: now };
  const none = { fingerprintSha256: null, subject: null, issuer: null, serial: null, notBefore: null, notAfter: null, der: null };
  const v = item.item;
  switch (v?.$case) {
    case 'certificate': {
      const { der, ...detail } = v.value;
      return {
        ...base,
        kind: 'certificate',
        path: v.value.file?.path ?? '',
        entry: v.value.entry,
        fingerprintSha256: v.value.fingerprintSha256,
        subject: v.value.subject,
        issuer: v.value.issuer,
        serial: v.value.serial,
        notBefore: v.value.notBefore ?? null,
        notAfter: v.value.notAfter ?? null,
        der: der.length ? Buffer.from(der) : null,
        detail: toJsonObject(detail),
      };
    }
    case 'privateKey':
      return { ...base, ...none, kind: 'private_key', path: v.value.file?.path ?? '', entry: '', detail: toJsonObject(v.value) };
    case 'problem':
      return { ...base, ...none, kind: 'problem', path: v.value.path, entry: '', detail: toJsonObject(v.value) };
    default:
      throw new Error(`inventory item ${item.key} has no content`);
  }
}
