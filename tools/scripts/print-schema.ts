// Prints the SQL that would bring a fresh PGlite database to the entities' schema: the starting
// point for a new migration (review it, then commit it under apps/server/src/database/migrations).
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../apps/server/src/database/data-source';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-schema-'));
  const ds = await openDatabase({ url: process.env.DATABASE_URL, pgliteDir: dir });
  const log = await ds.driver.createSchemaBuilder().log();
  for (const q of log.upQueries) console.log(`await q.query(\`${q.query}\`);`);
  console.log('// down');
  for (const q of [...log.downQueries].reverse()) console.log(`await q.query(\`${q.query}\`);`);
  await ds.destroy();
  rmSync(dir, { recursive: true, force: true });
}

void main();
