import { Body, Controller, Get, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { PkiUrls } from '../issuing-cas/pki-urls';
import { AcmeAccountsService } from './acme-accounts.service';
import { AcmeOrdersService } from './acme-orders.service';
import { AcmeDirectory } from './acme-request';

class CreateEabKeyDto {
  @ApiPropertyOptional({ description: 'Issuing CA (name or id) whose ACME directory accepts the key; absent: any' }) ca?: string;
  @ApiPropertyOptional() description?: string;
}

class EabKeyDto {
  @ApiProperty({ description: 'Key id for the ACME client (--eab-kid / --kid)' }) kid!: string;
  @ApiProperty({ description: 'base64url HMAC key (--eab-hmac-key / --hmac); shown only once' }) hmacKey!: string;
  @ApiProperty({ nullable: true, type: String }) issuingCaId!: string | null;
}

/** Administration of the ACME server: EAB keys, directory URLs, what it issued. */
@ApiTags('acme')
@ApiBearerAuth()
@Controller('api/v1/acme')
export class AcmeAdminController {
  constructor(
    @Inject(AcmeAccountsService) private readonly accounts: AcmeAccountsService,
    @Inject(AcmeOrdersService) private readonly orders: AcmeOrdersService,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(PkiUrls) private readonly urls: PkiUrls,
  ) {}

  @Post('eab-keys')
  @ApiOkResponse({ type: EabKeyDto })
  createEabKey(@Body() body: CreateEabKeyDto, @Actor() actor: string): Promise<EabKeyDto> {
    return this.accounts.createEabKey(typeof body?.ca === 'string' && body.ca ? body.ca : undefined, typeof body?.description === 'string' ? body.description : '', actor);
  }

  /**
   * One directory per active CA. After break-glass replacements it stays at the URL of the first CA
   * (where clients were set up); `replaces` names the CAs it issued from before.
   */
  @Get('directories')
  async directories(): Promise<Array<{ ca: string; issuingCaId: string; status: string; directoryUrl: string; externalAccountRequired: boolean; replaces: string[] }>> {
    const rows = [];
    for (const view of (await this.cas.list()).filter((c) => c.status === 'active')) {
      const succession = await this.cas.findSuccession(view.id);
      const dir = new AcmeDirectory(succession, `${this.urls.baseUrl}/acme/${encodeURIComponent(succession[0].name)}`);
      rows.push({ ca: view.name, issuingCaId: view.id, status: view.status, directoryUrl: dir.directoryUrl, externalAccountRequired: this.accounts.eabRequired(dir), replaces: dir.succession.slice(0, -1).map((c) => c.name) });
    }
    return rows;
  }

  /** Certificates issued through ACME (issuedBy: "acme"), newest first. */
  @Get('certificates')
  async certificates(@Query('ca') ca?: string): Promise<Array<Record<string, unknown>>> {
    return this.orders.issuedByAcme(ca ? (await this.cas.find(ca)).id : undefined);
  }
}
