import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in a transaction holding a PostgreSQL advisory lock, so that several server replicas
 * starting together create shared things (the fleet CA, the first admin token) only once.
 */
export function withAdvisoryLock<T>(ds: DataSource, lockId: number, work: (m: EntityManager) => Promise<T>): Promise<T> {
  return ds.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [lockId]);
    return work(manager);
  });
}

export const LOCKS = { fleetCa: 7301, adminToken: 7302, breakglass: 7303 } as const;
