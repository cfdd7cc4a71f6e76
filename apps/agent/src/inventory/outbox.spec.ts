import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDir } from '../state/state-dir';
import { Outbox } from './outbox';

const draft = (key: string) => ({
  fullSyncStart: false,
  fullSyncEnd: false,
  upserts: [{ key, item: { $case: 'problem' as const, value: { path: key, kind: 'corrupt', reason: 'r', format: '' } } }],
  removedKeys: [],
  scannedAt: new Date('2026-01-01T00:00:00Z'),
  stats: undefined,
});

describe('Outbox', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'outbox-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers reports, keeps them across restarts until acknowledged, and never reuses a sequence', () => {
    const state = new StateDir(join(dir, 'state'));
    const first = new Outbox(state);
    const [r1, r2, r3] = first.append([draft('a'), draft('b'), draft('c')]);
    expect([r1.sequence, r2.sequence, r3.sequence]).toEqual([1n, 2n, 3n]);
    expect(statSync(state.path('outbox')).mode & 0o777).toBe(0o700);

    const restarted = new Outbox(state);
    expect(restarted.last).toBe(3n);
    expect(restarted.pendingAfter(1n).map((r) => r.upserts[0].key)).toEqual(['b', 'c']);
    restarted.acknowledge(2n);
    expect(restarted.pendingAfter(0n).map((r) => r.sequence)).toEqual([3n]);
    restarted.clear();
    expect(restarted.size).toBe(0);
    expect(new Outbox(state).append([draft('d')])[0].sequence).toBe(4n);
  });

  it('trusts a stored report over a sequence counter that a crash left behind', () => {
    const state = new StateDir(join(dir, 'state'));
    new Outbox(state).append([draft('a'), draft('b')]);
    state.write('sequence', '1\n'); // as if the process died before updating the counter
    expect(new Outbox(state).last).toBe(2n);
  });

  it('only moves forward when the server has applied more than it remembers', () => {
    const state = new StateDir(join(dir, 'state'));
    const box = new Outbox(state);
    box.advanceTo(41n);
    box.advanceTo(7n);
    expect(box.append([draft('x')])[0].sequence).toBe(42n);
    expect(readdirSync(state.path('outbox'))).toEqual(['00000000000000000042.pb']);
  });
});
