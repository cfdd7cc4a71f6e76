import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InventoryItem } from '@certfleet/proto';
import { StateDir } from '../state/state-dir';
import { InventoryTracker, MAX_ITEMS_PER_REPORT } from './inventory-tracker';

const item = (key: string, reason = 'r'): InventoryItem => ({
  key,
  item: { $case: 'problem', value: { path: key, kind: 'corrupt', reason, format: '' } },
});
const stats = { filesSeen: 1, certificates: 0, privateKeys: 0, problems: 1, durationMs: 1 };
const at = new Date('2026-01-01T00:00:00Z');

describe('InventoryTracker', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tracker-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports only what was added, changed or removed since the last scan', () => {
    const tracker = new InventoryTracker(new StateDir(dir));
    expect(tracker.hasSnapshot).toBe(false);
    const first = tracker.recordScan([item('a'), item('b')], at, stats);
    expect(first.flatMap((r) => r.upserts.map((u) => u.key))).toEqual(['a', 'b']);

    expect(tracker.recordScan([item('a'), item('b')], at, stats)).toEqual([]);

    const next = tracker.recordScan([item('a', 'changed'), item('c')], at, stats);
    expect(next.flatMap((r) => r.upserts.map((u) => u.key))).toEqual(['a', 'c']);
    expect(next.flatMap((r) => r.removedKeys)).toEqual(['b']);
  });

  it('remembers the last scan across restarts', () => {
    new InventoryTracker(new StateDir(dir)).recordScan([item('a'), item('b')], at, stats);
    const restarted = new InventoryTracker(new StateDir(dir));
    expect(restarted.hasSnapshot).toBe(true);
    expect(restarted.recordScan([item('a')], at, stats).flatMap((r) => r.removedKeys)).toEqual(['b']);
  });

  it('splits a full sync into bounded reports marked start and end', () => {
    const tracker = new InventoryTracker(new StateDir(dir));
    const many = Array.from({ length: MAX_ITEMS_PER_REPORT * 2 + 1 }, (_, i) => item(`k${i}`));
    tracker.recordScan(many, at, stats);
    const sync = tracker.fullSync(at);
    expect(sync.map((r) => [r.upserts.length, r.fullSyncStart, r.fullSyncEnd])).toEqual([
      [MAX_ITEMS_PER_REPORT, true, false],
      [MAX_ITEMS_PER_REPORT, false, false],
      [1, false, true],
    ]);
  });

  it('sends an empty full sync for a host with nothing on it', () => {
    const tracker = new InventoryTracker(new StateDir(dir));
    tracker.recordScan([], at, stats);
    expect(tracker.fullSync(at)).toMatchObject([{ upserts: [], fullSyncStart: true, fullSyncEnd: true }]);
  });
});
