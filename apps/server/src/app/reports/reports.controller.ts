import { BadRequestException, Controller, Get, Inject, Logger, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { DataSource } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { REPORT_KINDS, ReportKind, ReportOptions, ReportSources } from './report-sources';
import { ReportFormat, writeReport } from './report-writer';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('api/v1/reports')
export class ReportsController {
  private readonly logger = new Logger('Reports');
  private readonly sources: ReportSources;

  constructor(@Inject(DataSource) ds: DataSource, @Inject(SERVER_CONFIG) config: ServerConfig) {
    this.sources = new ReportSources(ds, config.expiry);
  }

  /** Streams a report as CSV (RFC 4180) or one JSON array; large exports are read in batches as the client takes them. */
  @Get(':kind')
  @ApiParam({ name: 'kind', enum: REPORT_KINDS })
  @ApiQuery({ name: 'format', required: false, enum: ['csv', 'json'] })
  @ApiQuery({ name: 'days', required: false, description: 'expiring: within this many days (default 30)' })
  @ApiQuery({ name: 'by', required: false, enum: ['owner'], description: 'expiring: one row per owner' })
  @ApiQuery({ name: 'ca', required: false, description: 'trust: CA subject (substring), subject key identifier or fingerprint' })
  @ApiQuery({ name: 'keyAlgorithm', required: false, description: 'inventory: RSA, EC, Ed25519, ...' })
  @ApiQuery({ name: 'keyBitsBelow', required: false, description: 'inventory: keys smaller than this' })
  @ApiQuery({ name: 'signatureHash', required: false, enum: ['md5', 'sha1'] })
  @ApiProduces('text/csv', 'application/json')
  async report(@Param('kind') kind: string, @Query() query: Record<string, string | undefined>, @Res() response: ServerResponse): Promise<void> {
    if (!REPORT_KINDS.includes(kind as ReportKind)) throw new BadRequestException(`report must be one of ${REPORT_KINDS.join(', ')}`);
    const format = (query.format ?? 'csv') as ReportFormat;
    if (format !== 'csv' && format !== 'json') throw new BadRequestException('format must be csv or json');
    const source = await this.sources.source(kind as ReportKind, parseOptions(query));
    response.statusCode = 200;
    response.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/json; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="certfleet-${kind}.${format}"`);
    try {
      await writeReport(source, format, response);
      response.end();
    } catch (error) {
      // Headers are gone: cut the connection so the client sees a broken transfer, not a short report.
      this.logger.warn(`report ${kind} failed while streaming: ${(error as Error).message}`);
      response.destroy(error as Error);
    }
  }
}

export function parseOptions(q: Record<string, string | undefined>): ReportOptions {
  const options: ReportOptions = {};
  if (q.days !== undefined) {
    const days = Number(q.days);
    if (!Number.isInteger(days) || days < 0 || days > 36500) throw new BadRequestException('days must be a whole number of days from 0 to 36500');
    options.days = days;
  }
  if (q.by !== undefined) {
    if (q.by !== 'owner') throw new BadRequestException('by must be owner');
    options.by = 'owner';
  }
  if (q.ca !== undefined) options.ca = q.ca;
  if (q.keyAlgorithm !== undefined) options.keyAlgorithm = q.keyAlgorithm;
  if (q.keyBitsBelow !== undefined) {
    const bits = Number(q.keyBitsBelow);
    if (!Number.isInteger(bits) || bits < 1 || bits > 65536) throw new BadRequestException('keyBitsBelow must be a whole number of bits');
    options.keyBitsBelow = bits;
  }
  if (q.signatureHash !== undefined) {
    if (q.signatureHash !== 'md5' && q.signatureHash !== 'sha1') throw new BadRequestException('signatureHash must be md5 or sha1');
    options.signatureHash = q.signatureHash;
  }
  return options;
}
