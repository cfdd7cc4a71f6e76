import { PGliteDriver } from 'typeorm-pglite';

type Release = (err?: unknown) => void;
type ConnectCallback = (err: unknown, connection: unknown, release: Release) => void;
interface PoolLike {
  connect(callback: ConnectCallback): Promise<void>;
}

/**
 * typeorm-pglite hands every query runner the same PGlite connection, so two TypeORM transactions
 * running at once interleave their statements inside one database session (one's COMMIT commits
 * the other's half-done work; row locks order nothing). This pool gives the connection to one query
 * runner at a time, like a PostgreSQL pool of size one: transactions are serialised, and code must
 * not open a second query runner while holding one (it would wait forever).
 */
export function exclusivePgliteDriver(options: ConstructorParameters<typeof PGliteDriver>[0]): { Pool: new () => PoolLike } {
  const Base = new PGliteDriver(options).driver.Pool as unknown as new () => PoolLike;
  class ExclusivePool extends Base {
    private tail: Promise<void> = Promise.resolve();

    override connect(callback: ConnectCallback): Promise<void> {
      let free!: () => void;
      const turn = new Promise<void>((resolve) => (free = resolve));
      const previous = this.tail;
      this.tail = previous.then(() => turn);
      return previous.then(() =>
        super.connect((err, connection) => {
          let released = false;
          const release: Release = () => {
            if (released) return;
            released = true;
            free();
          };
          if (err) release();
          callback(err, connection, release);
        }),
      );
    }
  }
  return { Pool: ExclusivePool };
}
