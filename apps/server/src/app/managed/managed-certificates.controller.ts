import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { RenewalScheduler } from '../jobs/renewal-scheduler';
import { ManagedCertificatesService, ManagedCertificateView, ManagedDetailView } from './managed-certificates.service';

class ProfileDto {
  @ApiPropertyOptional({ enum: ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'], default: 'ec-p256' }) keyType?: string;
  @ApiPropertyOptional({ description: 'Default: the first DNS name or IP address' }) commonName?: string;
  @ApiPropertyOptional({ type: [String], example: ['www.example.com'] }) dnsNames?: string[];
  @ApiPropertyOptional({ type: [String], example: ['10.0.0.5'] }) ipAddresses?: string[];
  @ApiPropertyOptional({ default: 90 }) validityDays?: number;
  @ApiPropertyOptional({ type: [String], enum: ['tls-server', 'tls-client', 'code-signing'], default: ['tls-server'] }) usages?: string[];
}

class TargetDto {
  @ApiProperty({ enum: ['pem-files', 'fullchain-pem', 'combined-pem', 'pkcs12', 'java-keystore'] }) kind!: string;
  @ApiPropertyOptional({ description: 'pem-files' }) certPath?: string;
  @ApiPropertyOptional({ description: 'pem-files, fullchain-pem' }) keyPath?: string;
  @ApiPropertyOptional({ description: 'pem-files (optional)' }) chainPath?: string;
  @ApiPropertyOptional({ description: 'fullchain-pem, combined-pem, pkcs12, java-keystore' }) path?: string;
  @ApiPropertyOptional({ description: 'pkcs12' }) password?: string;
  @ApiPropertyOptional({ description: 'java-keystore' }) storePassword?: string;
  @ApiPropertyOptional({ description: 'java-keystore (default: the store password)' }) keyPassword?: string;
  @ApiPropertyOptional({ description: 'pkcs12 friendlyName / keystore alias' }) alias?: string;
}

class ValidationDto {
  @ApiProperty({ example: '127.0.0.1' }) host!: string;
  @ApiProperty({ example: 443 }) port!: number;
  @ApiPropertyOptional({ description: 'SNI; default the first DNS name' }) serverName?: string;
  @ApiPropertyOptional({ default: 10 }) timeoutSeconds?: number;
}

class CreateManagedDto {
  @ApiProperty({ example: 'www-prod' }) name!: string;
  @ApiProperty({ description: 'Agent id or hostname' }) agentId!: string;
  @ApiPropertyOptional({ description: 'Issuing CA id or name, or "acme:<ACME issuer name>"; default: the only active CA' }) issuer?: string;
  @ApiPropertyOptional({
    description: 'ACME issuers only: {type: "http-01", webroot: "/path"} or {type: "http-01", port: 80} (standalone), or {type: "dns-01", provider: "rfc2136", server, zone, tsigKeyName, tsigAlgorithm, tsigSecret} or {type: "dns-01", provider: "hook", command}',
  })
  challenge?: Record<string, unknown>;
  @ApiProperty({ type: ProfileDto }) profile!: ProfileDto;
  @ApiProperty({ type: [TargetDto] }) targets!: TargetDto[];
  @ApiPropertyOptional({ example: 'systemctl reload nginx', description: 'Run with /bin/sh -c on the host after install' }) reloadCommand?: string;
  @ApiPropertyOptional({ default: 30 }) reloadTimeoutSeconds?: number;
  @ApiPropertyOptional({ type: ValidationDto, description: 'TLS endpoint checked after reload; failure rolls back' }) validation?: ValidationDto;
  @ApiPropertyOptional({ description: 'Renew this many days before expiry (default: at 2/3 of the lifetime)' }) renewBeforeDays?: number;
}

class AdoptDto {
  @ApiProperty({ description: 'Agent id or hostname that reported the certificate' }) agentId!: string;
  @ApiProperty({ description: 'SHA-256 fingerprint of the discovered certificate' }) fingerprint!: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional() issuer?: string;
  @ApiPropertyOptional({ type: [TargetDto], description: 'Default: the files the certificate and its key are in now' }) targets?: TargetDto[];
  @ApiPropertyOptional() reloadCommand?: string;
  @ApiPropertyOptional() reloadTimeoutSeconds?: number;
  @ApiPropertyOptional({ type: ValidationDto }) validation?: ValidationDto;
  @ApiPropertyOptional() renewBeforeDays?: number;
}

class ManagedDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() agentId!: string;
  @ApiProperty({ nullable: true }) hostname!: string | null;
  @ApiProperty() issuer!: Record<string, unknown>;
  @ApiProperty({ type: ProfileDto }) profile!: ProfileDto;
  @ApiProperty({ type: [TargetDto], description: 'Passwords are shown as ********' }) targets!: TargetDto[];
  @ApiProperty() reloadCommand!: string;
  @ApiProperty() reloadTimeoutSeconds!: number;
  @ApiProperty({ type: ValidationDto, nullable: true }) validation!: ValidationDto | null;
  @ApiProperty({ nullable: true }) renewBeforeDays!: number | null;
  @ApiProperty({ enum: ['pending', 'active', 'failing', 'removed'] }) status!: string;
  @ApiProperty({ nullable: true }) currentSerial!: string | null;
  @ApiProperty({ nullable: true }) currentFingerprint!: string | null;
  @ApiProperty({ nullable: true }) notBefore!: Date | null;
  @ApiProperty({ nullable: true }) notAfter!: Date | null;
  @ApiProperty({ nullable: true, description: 'When the next job starts (renewal time or retry time)' }) nextRenewalAt!: Date | null;
  @ApiProperty() failureCount!: number;
  @ApiProperty({ nullable: true }) lastError!: string | null;
  @ApiProperty({ nullable: true }) adoptedFrom!: string | null;
  @ApiProperty({ nullable: true }) openJob!: Record<string, unknown> | null;
}

class ManagedDetailDto extends ManagedDto {
  @ApiProperty({ description: 'The last 20 jobs, newest first' }) jobs!: Record<string, unknown>[];
}

class RenewManyDto {
  @ApiPropertyOptional({ description: 'Every managed certificate (needed when no other selector is given)' }) all?: boolean;
  @ApiPropertyOptional({ description: 'Only certificates from this issuing CA (id or name)' }) issuer?: string;
  @ApiPropertyOptional({ description: 'Only certificates held by this agent' }) agentId?: string;
}

class RenewManyResultDto {
  @ApiProperty({ description: 'Made due now' }) requested!: number;
  @ApiProperty({ description: 'Selected but already running a job (left as they are)' }) alreadyRunning!: number;
}

@ApiTags('managed certificates')
@ApiBearerAuth()
@Controller('api/v1/managed-certificates')
export class ManagedCertificatesController {
  constructor(
    @Inject(ManagedCertificatesService) private readonly managed: ManagedCertificatesService,
    @Inject(RenewalScheduler) private readonly scheduler: RenewalScheduler,
  ) {}

  @Get()
  @ApiQuery({ name: 'agentId', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['pending', 'active', 'failing'] })
  @ApiOkResponse({ type: [ManagedDto] })
  list(@Query('agentId') agentId?: string, @Query('status') status?: string): Promise<ManagedCertificateView[]> {
    return this.managed.list({ agentId, status });
  }

  @Get(':idOrName')
  @ApiOkResponse({ type: ManagedDetailDto })
  get(@Param('idOrName') idOrName: string): Promise<ManagedDetailView> {
    return this.managed.get(idOrName);
  }

  @Post()
  @ApiCreatedResponse({ type: ManagedDto, description: 'Issued as soon as the agent is connected' })
  async create(@Body() body: CreateManagedDto, @Actor() actor: string): Promise<ManagedCertificateView> {
    const view = await this.managed.create((body ?? {}) as unknown as Record<string, unknown>, actor);
    void this.scheduler.kick();
    return view;
  }

  @Post('adopt')
  @ApiCreatedResponse({ type: ManagedDto, description: 'Manage a discovered certificate: same names and files; renewed when due' })
  async adopt(@Body() body: AdoptDto, @Actor() actor: string): Promise<ManagedCertificateView> {
    const view = await this.managed.adopt((body ?? {}) as unknown as Record<string, unknown>, actor);
    void this.scheduler.kick();
    return view;
  }

  @Post('renew')
  @HttpCode(200)
  @ApiOkResponse({ type: RenewManyResultDto, description: 'The selected certificates are due now; the scheduler starts their jobs at once' })
  async renewMany(@Body() body: RenewManyDto, @Actor() actor: string): Promise<RenewManyResultDto> {
    const b = (body ?? {}) as RenewManyDto;
    if (b.all !== undefined && typeof b.all !== 'boolean') throw new BadRequestException('all is true or false');
    for (const key of ['issuer', 'agentId'] as const) {
      if (b[key] !== undefined && typeof b[key] !== 'string') throw new BadRequestException(`${key} is a string`);
    }
    const result = await this.managed.renewManyNow({ all: b.all, issuer: b.issuer, agentId: b.agentId }, actor);
    void this.scheduler.kick();
    return result;
  }

  @Post(':idOrName/renew')
  @ApiCreatedResponse({ type: ManagedDetailDto })
  async renewNow(@Param('idOrName') idOrName: string, @Actor() actor: string): Promise<ManagedDetailView> {
    const view = await this.managed.renewNow(idOrName, actor);
    await this.scheduler.kick();
    return this.managed.get(view.id);
  }

  @Delete(':idOrName')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No longer managed; installed files are left in place' })
  remove(@Param('idOrName') idOrName: string, @Actor() actor: string): Promise<void> {
    return this.managed.remove(idOrName, actor);
  }
}
