import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../config/server-config';
import { openDatabase, pgliteDirFor } from './data-source';

/** Provides the migrated DataSource (PostgreSQL when DATABASE_URL is set, else embedded PGlite). */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [SERVER_CONFIG],
      useFactory: (config: ServerConfig) =>
        openDatabase({ url: config.databaseUrl, pgliteDir: pgliteDirFor(config.dataDir) }),
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
