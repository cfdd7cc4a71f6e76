import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { openTestDataSource } from '../../database/test-database';
import { AuditService } from './audit.service';

jest.setTimeout(60_000);

describe.each(['pglite', 'postgresql'] as const)('audit trail on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let audit: AuditService;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'audit'));
    audit = new AuditService(ds);
  });
  afterAll(() => close?.());

  const entry = (n: number) => ({ actor: 'token:ops', action: 'managed.created', subjectType: 'managed-certificate', subjectId: `m${n}`, detail: { after: { z: n, a: [1, { y: 'x', b: null }] } } });

  it('numbers events without gaps and chains their hashes, also under concurrent writers', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => audit.recordNow(entry(i))));
    await ds.transaction((m) => audit.record(m, entry(100), entry(101)));
    const events = await audit.list({ limit: 1000 });
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 22 }, (_, i) => String(i + 1)));
    for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);
    expect(await audit.verify()).toEqual({ ok: true, checked: 22, lastSeq: '22' });
  });

  it('writes nothing when the surrounding transaction rolls back', async () => {
    await expect(
      ds.transaction(async (m) => {
        await audit.record(m, entry(200));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await audit.list({ subjectId: 'm200' })).toEqual([]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('filters by subject, action prefix and paging', async () => {
    await audit.recordNow({ actor: 'agent:a1', action: 'job.succeeded', subjectType: 'job', subjectId: 'j1' });
    expect((await audit.list({ action: 'job.*' })).map((e) => e.subjectId)).toEqual(['j1']);
    expect((await audit.list({ subjectType: 'managed-certificate', subjectId: 'm3' })).map((e) => e.detail)).toEqual([{ after: { z: 3, a: [1, { y: 'x', b: null }] } }]);
    expect((await audit.list({ afterSeq: '21' })).map((e) => e.seq)).toEqual(['22', '23']);
  });

  it('detects an edited event, a deleted event and a truncated tail', async () => {
    await ds.query(`UPDATE "audit_events" SET "detail" = '{"after":{"z":999}}' WHERE "seq" = 5`);
    expect(await audit.verify()).toMatchObject({ ok: false, brokenAt: '5', checked: 4, reason: expect.stringContaining('edited') });
    await ds.query(`DELETE FROM "audit_events" WHERE "seq" = 5`);
    expect(await audit.verify()).toMatchObject({ ok: false, brokenAt: '6', reason: 'event 5 is missing' });
    await ds.query(`DELETE FROM "audit_events" WHERE "seq" <= 5`);
    await ds.query(`DELETE FROM "audit_events" WHERE "seq" >= 1`);
    await audit.recordNow(entry(300));
    await ds.query(`DELETE FROM "audit_events" WHERE "seq" = 24`);
    expect(await audit.verify()).toMatchObject({ ok: false, reason: expect.stringContaining('deleted from the end') });
  });
});
