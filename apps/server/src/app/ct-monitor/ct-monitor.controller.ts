import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { CtFinding } from './ct-finding.entity';
import type { CtLog } from './ct-log.entity';
import type { CtWatchedDomain } from './ct-watched-domain.entity';
import { CtMonitorService, PollResult, SctView } from './ct-monitor.service';

class LogInputDto {
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Log base URL (get-sth is <url>/ct/v1/get-sth)' }) url!: string;
  @ApiProperty({ description: 'Log public key: base64 DER SubjectPublicKeyInfo or PEM' }) publicKey!: string;
}

class WatchDto {
  @ApiProperty({ description: 'Domain; its subdomains are watched too' }) domain!: string;
}

class PollDto {
  @ApiPropertyOptional({ description: 'One log id; all logs when absent' }) logId?: string;
}

@ApiTags('ct')
@ApiBearerAuth()
@Controller('api/v1/ct')
export class CtMonitorController {
  constructor(@Inject(CtMonitorService) private readonly ct: CtMonitorService) {}

  @Get('logs')
  logs(): Promise<CtLog[]> {
    return this.ct.listLogs();
  }

  @Post('logs')
  addLog(@Body() body: LogInputDto): Promise<CtLog> {
    return this.ct.addLog(body);
  }

  @Get('watched')
  watched(): Promise<CtWatchedDomain[]> {
    return this.ct.watched();
  }

  @Post('watched')
  watch(@Body() body: WatchDto): Promise<CtWatchedDomain> {
    return this.ct.watch(body?.domain);
  }

  @Delete('watched/:domain')
  @HttpCode(204)
  unwatch(@Param('domain') domain: string): Promise<void> {
    return this.ct.unwatch(domain);
  }

  /** Certificates for watched domains seen in the logs that certfleet does not know. */
  @Get('findings')
  findings(): Promise<CtFinding[]> {
    return this.ct.findings();
  }

  /** The SCTs embedded in an inventory certificate and the logs they name. */
  @Get('scts/:fingerprint')
  scts(@Param('fingerprint') fingerprint: string): Promise<SctView[]> {
    return this.ct.scts(fingerprint);
  }

  @Post('poll')
  @HttpCode(200)
  poll(@Body() body?: PollDto): Promise<PollResult[]> {
    return this.ct.pollNow(body?.logId || undefined);
  }
}
