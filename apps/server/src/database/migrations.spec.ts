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
      'acme_accounts',
      'acme_authorizations',
      'acme_certificates',
      'acme_eab_keys',
      'acme_issuers',
      'acme_nonces',
      'acme_order_certificates',
      'acme_orders',
      'agents',
      'alert_thresholds',
      'alerts',
      'api_tokens',
      'audit_chain_head',
      'audit_events',
      'authority_credentials',
      'breakglass_campaigns',
      'breakglass_items',
      'certificate_inventory',
      'certificate_jobs',
      'certificate_owners',
      'certificate_public_keys',
      'certificate_revocation_status',
      'ct_findings',
      'ct_logs',
      'ct_watched_domains',
      'endpoint_observations',
      'endpoint_targets',
      'enrollment_tokens',
      'fleet_policies',
      'inventory_items',
      'issued_certificates',
      'issuing_ca_crls',
      'issuing_cas',
      'managed_certificates',
      'migrations',
      'notification_channels',
      'notification_deliveries',
      'ownership_rules',
      'policy_findings',
    ]);
    for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration();
    expect(await tables()).toEqual(['migrations']);
  });
});
