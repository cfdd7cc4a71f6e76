import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { AcmeIssuersService, AcmeIssuerView } from './acme-issuers.service';

class CreateAcmeIssuerDto {
  @ApiProperty({ example: 'letsencrypt' }) name!: string;
  @ApiProperty({ example: 'https://acme-v02.api.letsencrypt.org/directory' }) directoryUrl!: string;
  @ApiPropertyOptional({ example: 'pki@example.com' }) contactEmail?: string;
  @ApiPropertyOptional({ description: 'External Account Binding key id' }) eabKid?: string;
  @ApiPropertyOptional({ description: 'External Account Binding HMAC key (base64url); stored encrypted' }) eabHmacKey?: string;
  @ApiPropertyOptional({ description: 'CA certificate(s) to trust for a private ACME server\'s HTTPS, PEM' }) directoryTrustPem?: string;
  @ApiPropertyOptional({ description: 'The root the CA\'s chains end at, PEM (agents validate against it); default: the chain\'s self-signed last certificate' }) rootPem?: string;
  @ApiPropertyOptional({ default: true, description: 'Use ACME Renewal Information when the CA offers it' }) ariEnabled?: boolean;
  @ApiPropertyOptional({ default: 3, description: 'Never more certificates than this per managed certificate per 24 h' }) maxIssuancesPerDay?: number;
}

class AcmeIssuerDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() directoryUrl!: string;
  @ApiProperty({ nullable: true }) contactEmail!: string | null;
  @ApiProperty({ nullable: true }) eabKid!: string | null;
  @ApiProperty() hasEabHmacKey!: boolean;
  @ApiProperty({ nullable: true }) directoryTrustPem!: string | null;
  @ApiProperty({ nullable: true }) rootPem!: string | null;
  @ApiProperty() ariEnabled!: boolean;
  @ApiProperty() maxIssuancesPerDay!: number;
  @ApiProperty({ nullable: true, description: 'Set once the account is registered (first order)' }) accountUrl!: string | null;
  @ApiProperty() createdAt!: Date;
}

@ApiTags('ACME issuers')
@ApiBearerAuth()
@Controller('api/v1/acme-issuers')
export class AcmeIssuersController {
  constructor(@Inject(AcmeIssuersService) private readonly issuers: AcmeIssuersService) {}

  @Get()
  @ApiOkResponse({ type: [AcmeIssuerDto] })
  list(): Promise<AcmeIssuerView[]> {
    return this.issuers.list();
  }

  @Get(':idOrName')
  @ApiOkResponse({ type: AcmeIssuerDto })
  get(@Param('idOrName') idOrName: string): Promise<AcmeIssuerView> {
    return this.issuers.get(idOrName);
  }

  @Post()
  @ApiCreatedResponse({ type: AcmeIssuerDto, description: 'The account key is generated and sealed here; the account is registered on first use' })
  create(@Body() body: CreateAcmeIssuerDto, @Actor() actor: string): Promise<AcmeIssuerView> {
    return this.issuers.create((body ?? {}) as unknown as Record<string, unknown>, actor);
  }

  @Delete(':idOrName')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@Param('idOrName') idOrName: string, @Actor() actor: string): Promise<void> {
    await this.issuers.remove(idOrName, actor);
  }
}
