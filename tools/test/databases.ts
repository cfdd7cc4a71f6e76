// One fresh database per test file on the server in TEST_DATABASE_URL (set by postgres.js), so
// parallel Jest workers never see each other's tables:
//   let db: TestDatabase;
//   beforeAll(async () => (db = await createTestDatabase('inventory')));
//   afterAll(() => db.drop());
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** Database name, e.g. certfleet_t_inventory_1234_ab12cd34. */
  name: string;
  /** Connection URL for the new database (TEST_DATABASE_URL with the database replaced). */
  url: string;
  /** Drops the database, disconnecting any client still attached. */
  drop(): Promise<void>;
}

// Prefix marks databases made here, so leftovers on a shared server are easy to find.
export const TEST_DATABASE_PREFIX = 'certfleet_t_';

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    throw new Error('TEST_DATABASE_URL is not set: run tests through jest (tools/test/postgres.js is its globalSetup) or set it');
  }
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 30) || 'db';
  const name = `${TEST_DATABASE_PREFIX}${slug}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await administer(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) (PostgreSQL 13+) ends connections a test forgot to close.
      await administer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

async function administer(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
