import { BadRequestException, Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CERTIFICATE_STATUSES, CertificateStatus } from './certificate-status';
import { CertificateView, FindingView, InventoryQueryService } from './inventory-query.service';

class CertificateViewDto {
  @ApiProperty() agentId!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty() path!: string;
  @ApiProperty({ description: 'Position in the file ("0", "1", ...) or keystore alias' }) entry!: string;
  @ApiProperty({ description: 'SHA-256 of the DER, lowercase hex' }) fingerprintSha256!: string;
  @ApiProperty() subject!: string;
  @ApiProperty() issuer!: string;
  @ApiProperty() serial!: string;
  @ApiProperty({ nullable: true }) notBefore!: Date | null;
  @ApiProperty() notAfter!: Date;
  @ApiProperty() daysLeft!: number;
  @ApiProperty({ enum: CERTIFICATE_STATUSES }) status!: CertificateStatus;
  @ApiProperty({ description: 'Everything discovery recorded (SANs, key, chain, file owner/mode, paired key)' })
  detail!: Record<string, unknown>;
}

class CertificateListDto {
  @ApiProperty() total!: number;
  @ApiProperty({ type: [CertificateViewDto] }) items!: CertificateViewDto[];
}

class FindingDto {
  @ApiProperty() agentId!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty({ enum: ['private_key', 'problem'] }) kind!: string;
  @ApiProperty() path!: string;
  @ApiProperty() detail!: Record<string, unknown>;
  @ApiProperty() updatedAt!: Date;
}

/** Parses "30d", "12h", "90" (days) into days. */
export function parseDays(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([dh]?)$/i.exec(value.trim());
  if (!m) throw new BadRequestException(`expiring must look like 30d or 12h, got "${value}"`);
  const n = Number(m[1]);
  return m[2].toLowerCase() === 'h' ? n / 24 : n;
}

function parseNonNegativeInt(name: string, value?: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new BadRequestException(`${name} must be a non-negative integer`);
  return n;
}

@ApiTags('inventory')
@ApiBearerAuth()
@Controller('api/v1')
export class InventoryController {
  constructor(@Inject(InventoryQueryService) private readonly inventory: InventoryQueryService) {}

  @Get('certificates')
  @ApiQuery({ name: 'expiring', required: false, description: 'e.g. 30d: notAfter within 30 days (expired included)' })
  @ApiQuery({ name: 'agent', required: false, description: 'agent id or hostname' })
  @ApiQuery({ name: 'issuer', required: false, description: 'substring of the issuer DN' })
  @ApiQuery({ name: 'status', required: false, enum: CERTIFICATE_STATUSES })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  @ApiOkResponse({ type: CertificateListDto })
  certificates(
    @Query('expiring') expiring?: string,
    @Query('agent') agent?: string,
    @Query('issuer') issuer?: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('offset') offset?: string,
  ): Promise<{ total: number; items: CertificateView[] }> {
    const wanted = status?.toUpperCase();
    if (wanted && !CERTIFICATE_STATUSES.includes(wanted as CertificateStatus)) {
      throw new BadRequestException(`status must be one of ${CERTIFICATE_STATUSES.join(', ')}`);
    }
    return this.inventory.certificates({
      expiringWithinDays: expiring ? parseDays(expiring) : undefined,
      agent: agent || undefined,
      issuer: issuer || undefined,
      status: wanted as CertificateStatus | undefined,
      limit: parseNonNegativeInt('limit', limit),
      offset: parseNonNegativeInt('offset', offset),
    });
  }

  @Get('problems')
  @ApiQuery({ name: 'agent', required: false })
  @ApiOkResponse({ type: [FindingDto] })
  problems(@Query('agent') agent?: string): Promise<FindingView[]> {
    return this.inventory.findings('problem', agent || undefined);
  }

  @Get('private-keys')
  @ApiQuery({ name: 'agent', required: false })
  @ApiOkResponse({ type: [FindingDto] })
  privateKeys(@Query('agent') agent?: string): Promise<FindingView[]> {
    return this.inventory.findings('private_key', agent || undefined);
  }
}
