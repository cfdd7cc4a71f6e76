import { createHash } from 'node:crypto';
import { InventoryItem, InventoryReport, ScanStats } from '@certfleet/proto';
import { StateDir } from '../state/state-dir';

const SNAPSHOT_FILE = 'inventory.pb';
export const MAX_ITEMS_PER_REPORT = 500;

type Draft = Omit<InventoryReport, 'sequence'>;

/**
 * Remembers the last scan and turns each new scan into the reports that describe what changed:
 * added or changed items (by key and content) and removed keys. A full sync sends everything.
 */
export class InventoryTracker {
  // Only content hashes stay in memory; the items themselves live in the snapshot file, which is
  // read back only for a full sync. An idle agent holds next to nothing.
  private hashes = new Map<string, string>();
  /** A scan has been recorded (now or by an earlier run), so a full sync has something true to send. */
  hasSnapshot = false;

  constructor(private readonly state: StateDir) {
    const items = this.readSnapshot();
    if (!items) return;
    for (const item of items) this.hashes.set(item.key, hashOf(item));
    this.hasSnapshot = true;
  }

  get size(): number {
    return this.hashes.size;
  }

  /** Records a scan; returns delta reports (none when nothing changed). */
  recordScan(items: InventoryItem[], scannedAt: Date, stats: ScanStats): Draft[] {
    const next = new Map<string, string>();
    const upserts: InventoryItem[] = [];
    for (const item of items) {
      const hash = hashOf(item);
      next.set(item.key, hash);
      if (this.hashes.get(item.key) !== hash) upserts.push(item);
    }
    const removed = [...this.hashes.keys()].filter((k) => !next.has(k));
    this.hashes = next;
    this.hasSnapshot = true;
    this.writeSnapshot(items);
    if (upserts.length === 0 && removed.length === 0) return [];
    return chunk(upserts, removed).map((c) => ({
      ...c,
      fullSyncStart: false,
      fullSyncEnd: false,
      scannedAt,
      stats,
    }));
  }

  /** The whole current inventory as a full sync (at least one report, even when empty). */
  fullSync(scannedAt: Date): Draft[] {
    const parts = chunk(this.readSnapshot() ?? [], []);
    return parts.map((c, i) => ({
      ...c,
      fullSyncStart: i === 0,
      fullSyncEnd: i === parts.length - 1,
      scannedAt,
      stats: undefined,
    }));
  }

  private readSnapshot(): InventoryItem[] | undefined {
    const stored = this.state.read(SNAPSHOT_FILE);
    return stored ? InventoryReport.decode(stored).upserts : undefined;
  }

  private writeSnapshot(items: InventoryItem[]): void {
    const snapshot = InventoryReport.encode({
      sequence: 0n,
      fullSyncStart: false,
      fullSyncEnd: false,
      upserts: items,
      removedKeys: [],
      scannedAt: undefined,
      stats: undefined,
    }).finish();
    this.state.write(SNAPSHOT_FILE, snapshot);
  }
}

function hashOf(item: InventoryItem): string {
  return createHash('sha256').update(InventoryItem.encode(item).finish()).digest('base64');
}

function chunk(upserts: InventoryItem[], removed: string[]): { upserts: InventoryItem[]; removedKeys: string[] }[] {
  const out: { upserts: InventoryItem[]; removedKeys: string[] }[] = [];
  for (let i = 0; i < upserts.length; i += MAX_ITEMS_PER_REPORT) out.push({ upserts: upserts.slice(i, i + MAX_ITEMS_PER_REPORT), removedKeys: [] });
  for (let i = 0; i < removed.length; i += MAX_ITEMS_PER_REPORT * 4) {
    out.push({ upserts: [], removedKeys: removed.slice(i, i + MAX_ITEMS_PER_REPORT * 4) });
  }
  return out.length ? out : [{ upserts: [], removedKeys: [] }];
}
