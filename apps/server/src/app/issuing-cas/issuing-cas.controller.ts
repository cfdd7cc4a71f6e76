import { BadRequestException, Body, Controller, Get, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { IssuingCasService, IssuingCaView } from './issuing-cas.service';

class CreateIssuingCaDto {
  @ApiProperty({ example: 'prod issuing CA 2026', description: 'Unique; becomes the CA certificate\'s common name' }) name!: string;
  @ApiPropertyOptional({ enum: ['P-256', 'P-384'], default: 'P-256' }) curve?: 'P-256' | 'P-384';
  @ApiPropertyOptional({ example: 'Example Corp' }) organization?: string;
}

class ImportIssuingCaDto {
  @ApiProperty({ description: 'The issuing CA certificate the offline root signed, PEM' }) certificatePem!: string;
  @ApiProperty({ description: 'Every CA certificate above it up to and including the root, PEM' }) chainPem!: string;
}

class QuickStartDto {
  @ApiProperty({ example: 'lab' }) name!: string;
}

class IssuingCaDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['pending', 'active', 'retired', 'revoked'] }) status!: string;
  @ApiProperty({ nullable: true }) subject!: string | null;
  @ApiProperty({ nullable: true }) fingerprintSha256!: string | null;
  @ApiProperty({ nullable: true }) notAfter!: Date | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ nullable: true }) activatedAt!: Date | null;
  @ApiPropertyOptional({ description: 'While pending: the CSR for the offline root to sign' }) csrPem?: string;
  @ApiPropertyOptional({ nullable: true }) certificatePem?: string | null;
  @ApiPropertyOptional() chainPem?: string;
  @ApiPropertyOptional({ nullable: true }) rootPem?: string | null;
}

class QuickStartResultDto extends IssuingCaDto {
  @ApiProperty({ description: 'Where the lab root key was written (0600); move it offline for real use' }) rootKeyPath!: string;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new BadRequestException(`${field} is required`);
  return value;
}

@ApiTags('issuing CAs')
@ApiBearerAuth()
@Controller('api/v1/issuing-cas')
export class IssuingCasController {
  constructor(@Inject(IssuingCasService) private readonly cas: IssuingCasService) {}

  @Get()
  @ApiOkResponse({ type: [IssuingCaDto] })
  list(): Promise<IssuingCaView[]> {
    return this.cas.list();
  }

  @Get(':idOrName')
  @ApiOkResponse({ type: IssuingCaDto })
  get(@Param('idOrName') idOrName: string): Promise<IssuingCaView> {
    return this.cas.get(idOrName);
  }

  @Post()
  @ApiCreatedResponse({ type: IssuingCaDto, description: 'A pending CA: its key stays on the server; sign csrPem with the offline root' })
  create(@Body() body: CreateIssuingCaDto, @Actor() actor: string): Promise<IssuingCaView> {
    const curve = body?.curve ?? 'P-256';
    if (curve !== 'P-256' && curve !== 'P-384') throw new BadRequestException('curve must be P-256 or P-384');
    return this.cas.create(text(body?.name, 'name'), curve, actor, typeof body?.organization === 'string' ? body.organization : undefined);
  }

  @Post(':idOrName/certificate')
  @ApiCreatedResponse({ type: IssuingCaDto, description: 'Activates the pending CA' })
  async import(@Param('idOrName') idOrName: string, @Body() body: ImportIssuingCaDto, @Actor() actor: string): Promise<IssuingCaView> {
    const ca = await this.cas.find(idOrName);
    return this.cas.importCertificate(ca.id, text(body?.certificatePem, 'certificatePem'), text(body?.chainPem, 'chainPem'), actor);
  }

  @Post('quick-start')
  @ApiCreatedResponse({ type: QuickStartResultDto, description: 'Lab set-up: a root and an active issuing CA in one step' })
  quickStart(@Body() body: QuickStartDto, @Actor() actor: string): Promise<IssuingCaView & { rootKeyPath: string }> {
    return this.cas.quickStart(text(body?.name, 'name'), actor);
  }
}
