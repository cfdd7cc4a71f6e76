import { BadRequestException, Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuditService, AuditVerification } from './audit.service';
import { AuditEvent } from './audit-event.entity';

class AuditEventDto {
  @ApiProperty({ description: 'Position in the chain: 1, 2, 3... without gaps' }) seq!: string;
  @ApiProperty() at!: Date;
  @ApiProperty({ example: 'token:initial admin', description: '"token:<name>", "agent:<id>" or "system:<component>"' }) actor!: string;
  @ApiProperty({ example: 'managed.created' }) action!: string;
  @ApiProperty({ example: 'managed-certificate' }) subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty({ description: '{ before?, after?, ... }' }) detail!: Record<string, unknown>;
  @ApiProperty() prevHash!: string;
  @ApiProperty() hash!: string;
}

class AuditVerificationDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty() checked!: number;
  @ApiProperty() lastSeq!: string;
  @ApiPropertyOptional() brokenAt?: string;
  @ApiPropertyOptional() reason?: string;
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get('events')
  @ApiQuery({ name: 'subjectType', required: false })
  @ApiQuery({ name: 'subjectId', required: false })
  @ApiQuery({ name: 'action', required: false, description: 'exact, or a prefix ending in * (e.g. job.*)' })
  @ApiQuery({ name: 'actor', required: false })
  @ApiQuery({ name: 'since', required: false, description: 'ISO 8601 time' })
  @ApiQuery({ name: 'afterSeq', required: false, description: 'paging: events after this sequence number' })
  @ApiQuery({ name: 'limit', required: false, description: 'default 100, at most 10000' })
  @ApiOkResponse({ type: [AuditEventDto] })
  list(
    @Query('subjectType') subjectType?: string,
    @Query('subjectId') subjectId?: string,
    @Query('action') action?: string,
    @Query('actor') actor?: string,
    @Query('since') since?: string,
    @Query('afterSeq') afterSeq?: string,
    @Query('limit') limit?: string,
  ): Promise<AuditEvent[]> {
    const sinceDate = since ? new Date(since) : undefined;
    if (sinceDate && Number.isNaN(sinceDate.getTime())) throw new BadRequestException(`since must be an ISO 8601 time, got "${since}"`);
    if (afterSeq !== undefined && !/^\d{1,18}$/.test(afterSeq)) throw new BadRequestException('afterSeq must be a sequence number');
    const n = limit === undefined ? undefined : Number(limit);
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw new BadRequestException('limit must be a positive integer');
    return this.audit.list({ subjectType, subjectId, action, actor, since: sinceDate, afterSeq, limit: n });
  }

  @Get('verify')
  @ApiOkResponse({ type: AuditVerificationDto, description: 'Recomputes the hash chain from the first event' })
  verify(): Promise<AuditVerification> {
    return this.audit.verify();
  }
}
