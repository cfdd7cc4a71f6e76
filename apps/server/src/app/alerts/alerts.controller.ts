import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { AlertScheduler } from './alert-scheduler';
import { AlertsService } from './alerts.service';

class SilenceDto {
  @ApiProperty({ example: '2026-12-01T00:00:00Z' }) until!: string;
}

class ThresholdsDto {
  @ApiProperty({ type: [Number], example: [30, 14, 7], description: 'Days before expiry, descending; the last is critical' }) days!: number[];
}

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(
    @Inject(AlertsService) private readonly alerts: AlertsService,
    @Inject(AlertScheduler) private readonly scheduler: AlertScheduler,
  ) {}

  @Get()
  @ApiQuery({ name: 'state', required: false, description: 'open,acknowledged,silenced,resolved or all (default: not resolved)' })
  @ApiQuery({ name: 'kind', required: false })
  @ApiQuery({ name: 'limit', required: false })
  list(@Query('state') state?: string, @Query('kind') kind?: string, @Query('limit') limit?: string) {
    return this.alerts.list({ state, kind, limit: limit ? Number(limit) || undefined : undefined });
  }

  @Post('evaluate')
  @HttpCode(200)
  @ApiOkResponse({ description: 'Runs an evaluation pass now and says what it did' })
  evaluate() {
    return this.scheduler.runNow();
  }

  @Get('thresholds')
  thresholds() {
    return this.alerts.listThresholds();
  }

  @Post('thresholds/:scope')
  @HttpCode(200)
  @ApiOkResponse({ description: 'scope: tag:<tag> or managed:<id or name>' })
  setThresholds(@Param('scope') scope: string, @Body() body: ThresholdsDto, @Actor() actor: string) {
    return this.alerts.setThresholds(scope, body?.days, actor);
  }

  @Delete('thresholds/:scope')
  @HttpCode(204)
  @ApiNoContentResponse()
  removeThresholds(@Param('scope') scope: string, @Actor() actor: string): Promise<void> {
    return this.alerts.removeThresholds(scope, actor);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The alert and its deliveries' })
  get(@Param('id') id: string) {
    return this.alerts.get(id);
  }

  @Post(':id/ack')
  @HttpCode(200)
  ack(@Param('id') id: string, @Actor() actor: string) {
    return this.alerts.acknowledge(id, actor);
  }

  @Post(':id/silence')
  @HttpCode(200)
  silence(@Param('id') id: string, @Body() body: SilenceDto, @Actor() actor: string) {
    return this.alerts.silence(id, body?.until, actor);
  }
}
