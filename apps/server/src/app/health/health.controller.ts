import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Public } from '../auth/admin-auth.guard';

@ApiTags('health')
@Controller('healthz')
export class HealthController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** Liveness and database reachability; needs no token. */
  @Public()
  @Get()
  async health(): Promise<{ status: string }> {
    await this.ds.query('SELECT 1');
    return { status: 'ok' };
  }
}
