import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { RevocationStatus } from '@certfleet/pki';
import { CERTIFICATE_STATUSES, CertificateStatus } from './certificate-status';
import { CertificateView, FindingView, InventoryQueryService, REVOCATION_STATUSES } from './inventory-query.service';
import { PASS_LIMIT, RevocationCheckRun, RevocationStatusService } from './revocation-status.service';

class RevocationViewDto {
  @ApiProperty({ enum: REVOCATION_STATUSES }) status!: RevocationStatus;
  @ApiProperty({ nullable: true, type: String, description: 'RFC 5280 CRLReason name, e.g. keyCompromise' }) reason!: string | null;
  @ApiProperty({ nullable: true, type: Date }) revokedAt!: Date | null;
  @ApiProperty({ enum: ['ocsp', 'crl', 'none', 'ca'] }) source!: string;
  @ApiProperty() checkedAt!: Date;
  @ApiProperty({ description: 'What was asked and what it said, or why nothing was asked' }) detail!: string;
}

class CertificateViewDto {
  @ApiProperty({ enum: ['agent', 'acme'], description: 'agent: found on a host; acme: issued by the ACME server and not found on any host' }) source!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The agent that found it; null for source acme' }) agentId!: string | null;
  @ApiProperty({ description: 'The agent\'s host, or acme:<CA name>' }) hostname!: string;
  @ApiProperty({ description: 'The file, or the ACME order (/acme/<CA name>/order/<id>)' }) path!: string;
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
  @ApiProperty({ type: RevocationViewDto, nullable: true, description: 'Last OCSP/CRL check of this certificate; null until checked' })
  revocation!: RevocationViewDto | null;
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

class RevocationCheckDto {
  @ApiPropertyOptional({ type: [String], description: `SHA-256 fingerprints (hex) to check; all certificates (least recently checked first, at most ${PASS_LIMIT}) when absent` })
  fingerprints?: string[];
}

class RevocationCountsDto {
  @ApiProperty() good!: number;
  @ApiProperty() revoked!: number;
  @ApiProperty() unknown!: number;
  @ApiProperty() unreachable!: number;
}

class RevocationCheckRunDto {
  @ApiProperty({ description: 'Distinct certificates checked' }) checked!: number;
  @ApiProperty({ type: RevocationCountsDto }) counts!: RevocationCountsDto;
  @ApiProperty({ description: 'Certificates left for a later run (beyond this run\'s bound)' }) remaining!: number;
}

/** Fingerprints as stored: lowercase hex, colons allowed in the input. */
export function parseFingerprints(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > PASS_LIMIT) throw new BadRequestException(`fingerprints must be a list of at most ${PASS_LIMIT} SHA-256 fingerprints`);
  return value.map((item) => {
    const hex = typeof item === 'string' ? item.replace(/:/g, '').toLowerCase() : '';
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new BadRequestException(`fingerprints: "${String(item)}" is not a SHA-256 fingerprint (64 hex digits)`);
    return hex;
  });
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
  constructor(
    @Inject(InventoryQueryService) private readonly inventory: InventoryQueryService,
    @Inject(RevocationStatusService) private readonly revocation: RevocationStatusService,
  ) {}

  @Get('certificates')
  @ApiQuery({ name: 'expiring', required: false, description: 'e.g. 30d: notAfter within 30 days (expired included)' })
  @ApiQuery({ name: 'agent', required: false, description: 'agent id or hostname' })
  @ApiQuery({ name: 'issuer', required: false, description: 'substring of the issuer DN' })
  @ApiQuery({ name: 'status', required: false, enum: CERTIFICATE_STATUSES })
  @ApiQuery({ name: 'revocation', required: false, enum: REVOCATION_STATUSES, description: 'what the last revocation check said' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  @ApiOkResponse({ type: CertificateListDto })
  certificates(
    @Query('expiring') expiring?: string,
    @Query('agent') agent?: string,
    @Query('issuer') issuer?: string,
    @Query('status') status?: string,
    @Query('revocation') revocation?: string,
    @Query('limit') limit?: string,
    @Query('offset') offset?: string,
  ): Promise<{ total: number; items: CertificateView[] }> {
    const wanted = status?.toUpperCase();
    if (wanted && !CERTIFICATE_STATUSES.includes(wanted as CertificateStatus)) {
      throw new BadRequestException(`status must be one of ${CERTIFICATE_STATUSES.join(', ')}`);
    }
    const answer = revocation?.toLowerCase();
    if (answer && !REVOCATION_STATUSES.includes(answer as RevocationStatus)) {
      throw new BadRequestException(`revocation must be one of ${REVOCATION_STATUSES.join(', ')}`);
    }
    return this.inventory.certificates({
      expiringWithinDays: expiring ? parseDays(expiring) : undefined,
      agent: agent || undefined,
      issuer: issuer || undefined,
      status: wanted as CertificateStatus | undefined,
      revocation: (answer || undefined) as RevocationStatus | undefined,
      limit: parseNonNegativeInt('limit', limit),
      offset: parseNonNegativeInt('offset', offset),
    });
  }

  /** Checks revocation now (OCSP, then CRL): the given certificates, or all of them; answers still valid come from cache. */
  @Post('inventory/revocation-check')
  @HttpCode(200)
  @ApiOkResponse({ type: RevocationCheckRunDto })
  revocationCheck(@Body() body?: RevocationCheckDto): Promise<RevocationCheckRun> {
    return this.revocation.checkNow(parseFingerprints(body?.fingerprints));
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
