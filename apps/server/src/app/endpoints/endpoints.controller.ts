import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { parseTarget } from './endpoint-input';
import type { EndpointTarget } from './endpoint-target.entity';
import type { ObservationView } from './endpoint-observations.store';
import { EndpointsService, ProbeRun, TargetView } from './endpoints.service';

class TargetInputDto {
  @ApiProperty({ description: 'DNS name or IP; "host:port" also accepted when port is absent' }) host!: string;
  @ApiPropertyOptional() port?: number;
  @ApiPropertyOptional({ description: 'SNI and the name the certificate must match' }) serverName?: string;
  @ApiPropertyOptional({ description: 'Agent id or hostname of the host serving it (links the served certificate to its file)' }) agent?: string;
  @ApiPropertyOptional({ description: 'Agent id or hostname of the agent that probes it from its network; the server probes it when absent' }) probeFrom?: string;
}

class ProbeRequestDto {
  @ApiPropertyOptional({ description: 'One target id; all targets when absent' }) targetId?: string;
}

class ProbeRunDto {
  @ApiProperty() probed!: number;
  @ApiProperty({ description: 'Endpoints where a TLS handshake completed' }) tls!: number;
  @ApiProperty() failed!: number;
}

@ApiTags('endpoints')
@ApiBearerAuth()
@Controller('api/v1/endpoints')
export class EndpointsController {
  constructor(@Inject(EndpointsService) private readonly endpoints: EndpointsService) {}

  /** Latest observations: targets probed by the server and listeners agents found on their hosts. */
  @Get()
  @ApiQuery({ name: 'agent', required: false, description: 'agent id or hostname: the listeners it reported' })
  @ApiQuery({ name: 'target', required: false, description: 'target id' })
  observations(@Query('agent') agent?: string, @Query('target') target?: string): Promise<ObservationView[]> {
    return agent ? this.endpoints.agentObservations(agent) : this.endpoints.observations({ targetId: target || undefined });
  }

  @Get('targets')
  targets(): Promise<TargetView[]> {
    return this.endpoints.listTargets();
  }

  @Post('targets')
  addTarget(@Body() body: TargetInputDto): Promise<EndpointTarget> {
    return this.endpoints.addTarget(parseTarget(body));
  }

  @Delete('targets/:id')
  @HttpCode(204)
  removeTarget(@Param('id') id: string): Promise<void> {
    return this.endpoints.removeTarget(id);
  }

  @Post('probe')
  @HttpCode(200)
  @ApiOkResponse({ type: ProbeRunDto })
  probe(@Body() body?: ProbeRequestDto): Promise<ProbeRun> {
    return this.endpoints.probeNow(body?.targetId || undefined);
  }
}
