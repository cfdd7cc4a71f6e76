import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { exclusivePgliteDriver } from './pglite-exclusive-pool';

export interface DatabaseTarget {
  /** postgres:// URL; when absent, embedded PGlite stores its files in `pgliteDir`. */
  url?: string;
  pgliteDir?: string;
}

/** Builds the DataSource for PostgreSQL or embedded PGlite; schema comes only from migrations. */
export function createDataSource(target: DatabaseTarget): DataSource {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    uuidExtension: 'pgcrypto' as const,
  };
  if (target.url) {
    return new DataSource({ ...common, url: target.url, extra: { max: 10 } });
  }
  if (!target.pgliteDir) throw new Error('createDataSource needs a url or a pgliteDir');
  mkdirSync(target.pgliteDir, { recursive: true, mode: 0o700 });
  return new DataSource({
    ...common,
    driver: exclusivePgliteDriver({ dataDir: target.pgliteDir }),
    installExtensions: false,
  });
}

/** Connects and applies pending migrations. */
export async function openDatabase(target: DatabaseTarget): Promise<DataSource> {
  const ds = createDataSource(target);
  await ds.initialize();
  if (!target.url) {
    // typeorm-pglite hands every query runner the same pool object, and each running transaction
    // adds (then removes) an error listener on it: with more than ten at once Node warns of a leak
    // that is not one.
    (ds.driver as unknown as { master?: { setMaxListeners?(n: number): void } }).master?.setMaxListeners?.(0);
  }
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

export function pgliteDirFor(dataDir: string): string {
  return join(dataDir, 'pglite');
}
