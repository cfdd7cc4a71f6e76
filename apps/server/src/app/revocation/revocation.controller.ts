import { Body, Controller, Get, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { CrlPublisher } from './crl-publisher.service';
import { RevocationOutcome, RevocationService, REVOKE_REASONS, RevokedCertificateView } from './revocation.service';

class RevokeDto {
  @ApiProperty({ description: 'Serial number (hex, colons allowed) of a certificate a certfleet CA issued, or a managed certificate id (its current certificate)' })
  target!: string;
  @ApiPropertyOptional({ enum: REVOKE_REASONS, default: 'unspecified' }) reason?: string;
  @ApiPropertyOptional({ description: 'Also give every managed certificate holding it a new key and certificate now', default: false }) replace?: boolean;
}

class CrlInfoDto {
  @ApiProperty() issuingCaId!: string;
  @ApiProperty() crlNumber!: string;
  @ApiProperty() thisUpdate!: Date;
  @ApiProperty() nextUpdate!: Date;
  @ApiProperty() entries!: number;
}

@ApiTags('revocation')
@ApiBearerAuth()
@Controller('api/v1')
export class RevocationController {
  constructor(
    @Inject(RevocationService) private readonly revocations: RevocationService,
    @Inject(CrlPublisher) private readonly crls: CrlPublisher,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
  ) {}

  /** Revokes at once: CRL republished and OCSP answering "revoked" before this returns. */
  @Post('revocations')
  revoke(@Body() body: RevokeDto, @Actor() actor: string): Promise<RevocationOutcome> {
    return this.revocations.revoke(body?.target, body?.reason, actor, { replace: body?.replace === true });
  }

  @Get('revocations')
  list(@Query('issuer') issuer?: string, @Query('limit') limit?: string): Promise<RevokedCertificateView[]> {
    return (async () => this.revocations.list({ issuingCaId: issuer ? (await this.cas.find(issuer)).id : undefined, limit: limit ? Number(limit) : undefined }))();
  }

  /** Publishes a new CRL for the CA now (normally done on revocation and before nextUpdate). */
  @Post('issuing-cas/:idOrName/crl')
  @ApiOkResponse({ type: CrlInfoDto })
  async publishCrl(@Param('idOrName') idOrName: string): Promise<CrlInfoDto> {
    const { der: _der, ...info } = await this.crls.publish((await this.cas.find(idOrName)).id, { force: true });
    return info;
  }
}
