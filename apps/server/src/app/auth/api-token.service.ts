import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { DataSource, IsNull } from 'typeorm';
import { writeFileAtomic } from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { LOCKS, withAdvisoryLock } from '../../database/advisory-lock';
import { newSecret, sha256Hex } from '../../common/secrets';
import { ApiToken } from './api-token.entity';

/** Administrator API tokens. First start creates one and writes it to <dataDir>/admin-token (0600). */
@Injectable()
export class ApiTokenService implements OnModuleInit {
  private readonly logger = new Logger('Auth');

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  get adminTokenPath(): string {
    return join(this.config.dataDir, 'admin-token');
  }

  async onModuleInit(): Promise<void> {
    await withAdvisoryLock(this.ds, LOCKS.adminToken, async (m) => {
      const repo = m.getRepository(ApiToken);
      if ((await repo.count()) > 0) return;
      const token = newSecret('cfa_');
      await repo.insert({ name: 'initial admin', tokenSha256: sha256Hex(token) });
      writeFileAtomic(this.adminTokenPath, token + '\n', 0o600);
      this.logger.log(`created the first admin API token in ${this.adminTokenPath}`);
    });
  }

  async isValid(token: string): Promise<boolean> {
    return (await this.find(token)) !== null;
  }

  /** The live token row for a presented token, or null. */
  async find(token: string): Promise<ApiToken | null> {
    if (!token) return null;
    return this.ds.getRepository(ApiToken).findOne({ where: { tokenSha256: sha256Hex(token), revokedAt: IsNull() } });
  }
}
