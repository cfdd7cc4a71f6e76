import { Body, Controller, Get, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Actor } from '../auth/admin-auth.guard';
import { BreakglassCampaign } from './breakglass-campaign.entity';
import { BreakglassService, CampaignPlan } from './breakglass.service';
import { campaignProgress, CampaignProgress, CampaignReport } from './campaign-progress';

class SelectorDto {
  @ApiPropertyOptional({ description: 'Internal issuing CA (id or name) that is compromised: rotated, revoked, all its certificates replaced' }) issuer?: string;
  @ApiPropertyOptional({ description: 'Authority key identifier (hex) of any CA' }) caKey?: string;
  @ApiPropertyOptional({ type: [String] }) serials?: string[];
  @ApiPropertyOptional({ example: '*.example.com' }) san?: string;
  @ApiPropertyOptional({ example: 'RSA' }) keyAlgorithm?: string;
  @ApiPropertyOptional({ example: 2048 }) keyBitsBelow?: number;
  @ApiPropertyOptional({ example: 'sha1' }) signatureAlgorithm?: string;
}

class RunDto {
  @ApiProperty({ type: SelectorDto }) selector!: SelectorDto;
  @ApiProperty({ description: 'Must be true: the run revokes and replaces across the fleet' }) confirm!: boolean;
  @ApiPropertyOptional({ description: 'Revocation reason; default caCompromise for an issuer, keyCompromise otherwise' }) reason?: string;
  @ApiPropertyOptional() newCaName?: string;
  @ApiPropertyOptional({ default: 1000 }) concurrency?: number;
}

@ApiTags('break-glass')
@ApiBearerAuth()
@Controller('api/v1/breakglass')
export class BreakglassController {
  constructor(
    @Inject(BreakglassService) private readonly breakglass: BreakglassService,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  /** Dry run: what a campaign with this selector would revoke and replace, per host. Changes nothing. */
  @Post('plan')
  plan(@Body() body: SelectorDto): Promise<CampaignPlan> {
    return this.breakglass.plan(body);
  }

  @Post('run')
  async run(@Body() body: RunDto, @Actor() actor: string): Promise<CampaignProgress> {
    const c = await this.breakglass.run(body?.selector, { confirm: body?.confirm, reason: body?.reason, newCaName: body?.newCaName, concurrency: body?.concurrency }, actor);
    return campaignProgress(this.ds, c.id, false);
  }

  @Get('campaigns')
  list(): Promise<BreakglassCampaign[]> {
    return this.ds.getRepository(BreakglassCampaign).find({ order: { createdAt: 'DESC' }, take: 100 });
  }

  @Get('campaigns/:id')
  status(@Param('id') id: string): Promise<CampaignProgress> {
    return campaignProgress(this.ds, id, false);
  }

  /** Every item: what was replaced, what failed and why, what needs manual action. */
  @Get('campaigns/:id/report')
  report(@Param('id') id: string): Promise<CampaignReport> {
    return campaignProgress(this.ds, id, true);
  }
}
