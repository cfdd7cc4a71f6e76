import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Public } from '../auth/admin-auth.guard';
import { METRICS_SERVICE, MetricsService } from './metrics.service';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_SERVICE) private readonly metrics: MetricsService) {}

  /** Prometheus text exposition; needs no token, like /healthz (keep the HTTP listener private). */
  @Public()
  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus metrics, text format 0.0.4' })
  scrape(): Promise<string> {
    return this.metrics.metrics();
  }
}
