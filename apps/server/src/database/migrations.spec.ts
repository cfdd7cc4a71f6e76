import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { openTestDataSource } from './test-database';

jest.setTimeout(60_000);

// The schema comes only from committed migrations: after they run, the entities must need nothing
// more, on either database, and the migrations must undo cleanly.
describe.each(['pglite', 'postgresql'] as const)('migrations on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;

  beforeAll(async () => ({ ds, close } = await openTestDataSource(database, 'migrations')));
  afterAll(() => close?.());

  it('leave no difference between the entities and the database', async () => {
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('are recorded, are not run twice, and revert to an empty schema', async () => {
    expect(await ds.showMigrations()).toBe(false);
    await ds.runMigrations();
    const tables = async () =>
      ((await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)) as { table_name: string }[]).map(
        (r) => r.table_name,
      );
    expect(await tables()).toEqual([
      'agents',
      'api_tokens',
      'audit_chain_head',
      'audit_events',
      'authority_credentials',
      'breakglass_campaigns',
      'breakglass_items',
      'certificate_jobs',
      'certificate_revocation_status',
      'enrollment_tokens',
      'inventory_items',
      'issued_certificates',
      'issuing_ca_crls',
      'issuing_cas',
      'managed_certificates',
      'migrations',
    ]);
    for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration();
    expect(await tables()).toEqual(['migrations']);
  });
});
