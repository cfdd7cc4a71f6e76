import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { InventoryItem as ProtoItem, InventoryReport, ReportAck } from '@certfleet/proto';
import { toJsonText } from '../../common/json';
import { queryRows } from '../../database/query-rows';

const UPSERT_BATCH = 500;
// Bound once per statement and shared by every row: agent_id, seen_sequence, first_seen_at, updated_at.
const SHARED_COLUMNS = ['agent_id', 'seen_sequence', 'first_seen_at', 'updated_at'];
// Bound per row, in this order (see toRow).
const ROW_COLUMNS = [
  'item_key', 'kind', 'path', 'entry', 'fingerprint_sha256', 'subject', 'issuer', 'serial',
  'not_before', 'not_after', 'detail', 'der',
];
const DER_INDEX = ROW_COLUMNS.indexOf('der');
const UPDATED_COLUMNS = [
  'kind', 'path', 'entry', 'fingerprint_sha256', 'subject', 'issuer', 'serial',
  'not_before', 'not_after', 'detail', 'der', 'seen_sequence', 'updated_at',
];
const UPSERT_HEAD = `INSERT INTO inventory_items (${[...SHARED_COLUMNS, ...ROW_COLUMNS].join(', ')}) VALUES `;
const UPSERT_TAIL = ` ON CONFLICT (agent_id, item_key) DO UPDATE SET ${UPDATED_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;

type Row = unknown[];

interface AgentSyncRow {
  applied_sequence: string;
  full_sync_sequence: string | null;
  full_sync_required: boolean;
}

/**
 * Applies an agent's inventory reports. Reports are applied in sequence order exactly once; a
 * repeated report is acknowledged and ignored, a gap asks the agent for a full sync.
 *
 * This is the fleet's hot path (every agent's every report), so it speaks SQL directly: one
 * multi-row upsert with the per-report values bound once, and each finding converted to JSON once
 * (see tools/bench/fleet-ingest for the figures).
 */
@Injectable()
export class InventoryReportService {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async apply(agentId: string, report: InventoryReport): Promise<ReportAck> {
    const seq = report.sequence;
    // Converted before the transaction: a malformed item refuses the report without touching the database.
    const rows = toRows(report.upserts);
    return this.ds.transaction(async (m) => {
      const [agent] = queryRows<AgentSyncRow>(
        await m.query(
          'SELECT applied_sequence::text, full_sync_sequence::text, full_sync_required FROM agents WHERE id = $1 FOR UPDATE',
          [agentId],
        ),
      );
      if (!agent) return { sequence: seq, fullSyncRequired: false, error: 'unknown agent' };
      const applied = BigInt(agent.applied_sequence);
      if (seq <= applied) return { sequence: seq, fullSyncRequired: false, error: '' };

      const inFullSync = agent.full_sync_sequence !== null;
      if (!report.fullSyncStart && (seq !== applied + 1n || (agent.full_sync_required && !inFullSync))) {
        return { sequence: seq, fullSyncRequired: true, error: `cannot apply report ${seq} after ${applied}` };
      }
      const fullSyncSequence = report.fullSyncStart ? seq : inFullSync ? BigInt(agent.full_sync_sequence!) : null;
      const now = new Date();

      await this.upsert(m, agentId, seq, rows, now);
      if (report.removedKeys.length > 0) {
        await m.query('DELETE FROM inventory_items WHERE agent_id = $1 AND item_key = ANY($2)', [agentId, report.removedKeys]);
      }
      const endsFullSync = report.fullSyncEnd && fullSyncSequence !== null;
      if (endsFullSync) {
        // Whatever the full sync did not mention is gone from the host.
        await m.query('DELETE FROM inventory_items WHERE agent_id = $1 AND seen_sequence < $2', [agentId, fullSyncSequence.toString()]);
      }
      await m.query(
        `UPDATE agents SET applied_sequence = $2, last_seen_at = $3, full_sync_sequence = $4${
          endsFullSync ? ', full_sync_required = false' : ''
        }${report.scannedAt ? ', last_scan_at = $5' : ''} WHERE id = $1`,
        [
          agentId,
          seq.toString(),
          now,
          endsFullSync ? null : (fullSyncSequence?.toString() ?? null),
          ...(report.scannedAt ? [report.scannedAt] : []),
        ],
      );
      return { sequence: seq, fullSyncRequired: false, error: '' };
    });
  }

  private async upsert(m: EntityManager, agentId: string, seq: bigint, rows: Row[], now: Date): Promise<void> {
    for (let i = 0; i < rows.length; i += UPSERT_BATCH) {
      const batch = rows.slice(i, i + UPSERT_BATCH);
      const params: unknown[] = [agentId, seq.toString(), now, now];
      const tuples = batch.map((row) => {
        const placeholders = row.map((value, i) => (i === DER_INDEX ? `decode($${params.push(value)}, 'hex')` : `$${params.push(value)}`));
        return `($1, $2, $3, $4, ${placeholders.join(', ')})`;
      });
      await m.query(UPSERT_HEAD + tuples.join(', ') + UPSERT_TAIL, params);
    }
  }
}

/** One row per distinct key, in ROW_COLUMNS order; a key named twice (by mistake) keeps its last item. */
function toRows(items: ProtoItem[]): Row[] {
  const byKey = new Map(items.map((i) => [i.key, i]));
  return [...byKey.values()].map(toRow);
}

function toRow(item: ProtoItem): Row {
  const v = item.item;
  switch (v?.$case) {
    case 'certificate': {
      const { der, ...detail } = v.value;
      const c = v.value;
      return [
        item.key, 'certificate', c.file?.path ?? '', c.entry, c.fingerprintSha256, c.subject, c.issuer, c.serial,
        c.notBefore ?? null, c.notAfter ?? null, toJsonText(detail), der.length ? derHex(der) : null,
      ];
    }
    case 'privateKey':
      return [item.key, 'private_key', v.value.file?.path ?? '', '', null, null, null, null, null, null, toJsonText(v.value), null];
    case 'problem':
      return [item.key, 'problem', v.value.path, '', null, null, null, null, null, null, toJsonText(v.value), null];
    default:
      throw new Error(`inventory item ${item.key} has no content`);
  }
}


/**
 * The DER as hex text, turned back into bytea by decode() in SQL. Not bound as a Buffer because
 * PGlite hex-encodes Buffers one byte at a time in JavaScript (the top cost of ingest in its
 * profile); node-postgres sends hex text for a Buffer anyway.
 */
function derHex(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('hex');
}
