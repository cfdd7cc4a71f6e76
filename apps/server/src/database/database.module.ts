import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../config/server-config';
import { openDatabase, pgliteDirFor } from './data-source';
import { lockPgliteDir } from './pglite-lock';

/** Provides the migrated DataSource (PostgreSQL when DATABASE_URL is set, else embedded PGlite). */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [SERVER_CONFIG],
      useFactory: async (config: ServerConfig) => {
        if (config.databaseUrl) return openDatabase({ url: config.databaseUrl });
        const release = lockPgliteDir(config.dataDir);
        try {
          const ds = await openDatabase({ pgliteDir: pgliteDirFor(config.dataDir) });
          const destroy = ds.destroy.bind(ds);
          ds.destroy = async () => {
            await destroy();
            release();
          };
          return ds;
        } catch (err) {
          release();
          throw err;
        }
      },
    },
  ],
  exports: [DataSource],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
