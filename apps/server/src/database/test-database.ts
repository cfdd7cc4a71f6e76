import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../../../../tools/test/databases';
import { openDatabase } from './data-source';

export type TestDatabaseKind = 'pglite' | 'postgresql';

/**
 * For tests: a migrated DataSource on a fresh PGlite directory or a fresh PostgreSQL database,
 * and a `close` that destroys it and removes the files or the database.
 */
export async function openTestDataSource(kind: TestDatabaseKind, label: string): Promise<{ ds: DataSource; close(): Promise<void> }> {
  if (kind === 'postgresql') {
    const db = await createTestDatabase(label);
    const ds = await openDatabase({ url: db.url });
    return { ds, close: async () => (await ds.destroy(), await db.drop()) };
  }
  const dir = mkdtempSync(join(tmpdir(), `cf-${label}-`));
  const ds = await openDatabase({ pgliteDir: dir });
  return { ds, close: async () => (await ds.destroy(), rmSync(dir, { recursive: true, force: true })) };
}
