import 'reflect-metadata';
import { DataSource } from 'typeorm';
import type { InventoryItem as ProtoItem, InventoryReport } from '@certfleet/proto';
import { openTestDataSource } from '../../database/test-database';
import { Agent } from '../agents/agent.entity';
import { InventoryReportService } from './inventory-report.service';

jest.setTimeout(60_000);

const problem = (key: string, reason = 'bad'): ProtoItem => ({
  key,
  item: { $case: 'problem', value: { path: `/etc/ssl/${key}`, kind: 'corrupt', reason, format: 'pem' } },
});

function report(sequence: number, opts: Partial<InventoryReport>): InventoryReport {
  return { sequence: BigInt(sequence), fullSyncStart: false, fullSyncEnd: false, upserts: [], removedKeys: [], scannedAt: undefined, stats: undefined, ...opts };
}

describe.each(['pglite', 'postgresql'] as const)('InventoryReportService on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let service: InventoryReportService;
  const agentId = '11111111-1111-4111-8111-111111111111';

  const keys = async () =>
    ((await ds.query('SELECT item_key FROM inventory_items WHERE agent_id = $1 ORDER BY item_key', [agentId])) as { item_key: string }[]).map(
      (r) => r.item_key,
    );

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'inventory_report'));
    await ds.getRepository(Agent).insert({
      id: agentId,
      hostname: 'h1',
      hostFacts: {},
      enrolledAt: new Date(),
      certificateSerial: '01',
      certificateNotAfter: new Date(Date.now() + 86_400_000),
    });
    service = new InventoryReportService(ds);
  });

  afterAll(() => close?.());

  it('applies reports once, in order, and asks for a full sync whenever history has a gap', async () => {
    // A new agent must start with a full sync.
    expect(await service.apply(agentId, report(1, { upserts: [problem('a')] }))).toMatchObject({ fullSyncRequired: true });
    expect(await keys()).toEqual([]);

    expect(await service.apply(agentId, report(1, { fullSyncStart: true, fullSyncEnd: true, upserts: [problem('a'), problem('b')] }))).toEqual({
      sequence: 1n,
      fullSyncRequired: false,
      error: '',
    });
    expect(await keys()).toEqual(['a', 'b']);

    // A replayed report (even with other content) is acknowledged and changes nothing.
    expect(await service.apply(agentId, report(1, { fullSyncStart: true, fullSyncEnd: true, upserts: [problem('z')] }))).toMatchObject({
      sequence: 1n,
      fullSyncRequired: false,
      error: '',
    });
    expect(await keys()).toEqual(['a', 'b']);

    expect(await service.apply(agentId, report(2, { upserts: [problem('c'), problem('b', 'changed')], removedKeys: ['a'] }))).toMatchObject({ error: '' });
    expect(await keys()).toEqual(['b', 'c']);
    const [b] = await ds.query(`SELECT detail->>'reason' AS reason FROM inventory_items WHERE item_key = 'b'`);
    expect(b.reason).toBe('changed');

    // Sequence 3 never arrived: 4 is refused and nothing changes.
    expect(await service.apply(agentId, report(4, { upserts: [problem('d')] }))).toMatchObject({ fullSyncRequired: true });
    expect(await keys()).toEqual(['b', 'c']);
  });

  it('completes a full sync spread over several reports and removes what it did not mention', async () => {
    expect(await service.apply(agentId, report(10, { fullSyncStart: true, upserts: [problem('b')] }))).toMatchObject({ error: '', fullSyncRequired: false });
    // Mid-sync, nothing is removed yet.
    expect(await keys()).toEqual(['b', 'c']);
    expect(await service.apply(agentId, report(11, { fullSyncEnd: true, upserts: [problem('e')] }))).toMatchObject({ error: '' });
    expect(await keys()).toEqual(['b', 'e']);
    const [agent] = await ds.query('SELECT applied_sequence::text, full_sync_required, full_sync_sequence FROM agents WHERE id = $1', [agentId]);
    expect(agent).toEqual({ applied_sequence: '11', full_sync_required: false, full_sync_sequence: null });
  });

  it('rejects a report with a malformed item as a whole and changes nothing', async () => {
    const bad = report(12, { upserts: [problem('f'), { key: 'empty', item: undefined }] });
    await expect(service.apply(agentId, bad)).rejects.toThrow('has no content');
    expect(await keys()).toEqual(['b', 'e']);
    const [agent] = await ds.query('SELECT applied_sequence::text FROM agents WHERE id = $1', [agentId]);
    expect(agent.applied_sequence).toBe('11');
  });
});
