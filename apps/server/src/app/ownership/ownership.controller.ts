import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { OwnershipService } from './ownership.service';

class OwnerDto {
  @ApiPropertyOptional({ example: 'payments' }) team?: string;
  @ApiPropertyOptional({ type: [String], example: ['payments-oncall@example.com'] }) emails?: string[];
  @ApiPropertyOptional({ type: [String], description: 'Notification channel names that also get these alerts' }) channels?: string[];
  @ApiPropertyOptional({ type: [String], example: ['prod', 'pci'] }) tags?: string[];
}

class RuleDto extends OwnerDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ default: 100, description: 'Lower is tried first; the first matching rule wins' }) priority?: number;
  @ApiPropertyOptional({ example: '/etc/nginx/**', description: '* within a directory, ** across' }) pathGlob?: string;
  @ApiPropertyOptional({ example: '*.shop.example.com', description: 'Matched on DNS names and subject CN' }) sanPattern?: string;
  @ApiPropertyOptional({ example: { env: 'prod' }, description: 'All must be on the holding agent' }) agentLabels?: Record<string, string>;
}

class LabelsDto {
  @ApiPropertyOptional({ example: { env: 'prod' } }) set?: Record<string, string>;
  @ApiPropertyOptional({ type: [String] }) remove?: string[];
}

@ApiTags('ownership')
@ApiBearerAuth()
@Controller('api/v1')
export class OwnershipController {
  constructor(@Inject(OwnershipService) private readonly ownership: OwnershipService) {}

  @Get('owners')
  @ApiOkResponse({ description: 'Owners assigned by hand' })
  list() {
    return this.ownership.list();
  }

  @Get('owners/:certificate')
  @ApiOkResponse({ description: 'The effective owner (hand assignment and rules applied) of a fingerprint or managed certificate' })
  effective(@Param('certificate') certificate: string) {
    return this.ownership.effective(certificate);
  }

  @Post('owners/:certificate')
  @HttpCode(200)
  @ApiOkResponse({ description: 'Assigned; replaces an earlier hand assignment' })
  set(@Param('certificate') certificate: string, @Body() body: OwnerDto, @Actor() actor: string) {
    return this.ownership.set(certificate, (body ?? {}) as Record<string, unknown>, actor);
  }

  @Delete('owners/:certificate')
  @HttpCode(204)
  @ApiNoContentResponse()
  remove(@Param('certificate') certificate: string, @Actor() actor: string): Promise<void> {
    return this.ownership.remove(certificate, actor);
  }

  @Get('ownership-rules')
  listRules() {
    return this.ownership.listRules();
  }

  @Post('ownership-rules')
  addRule(@Body() body: RuleDto, @Actor() actor: string) {
    return this.ownership.addRule((body ?? {}) as unknown as Record<string, unknown>, actor);
  }

  @Delete('ownership-rules/:idOrName')
  @HttpCode(204)
  @ApiNoContentResponse()
  removeRule(@Param('idOrName') idOrName: string, @Actor() actor: string): Promise<void> {
    return this.ownership.removeRule(idOrName, actor);
  }

  @Post('agents/:agent/labels')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The agent labels after the change' })
  labels(@Param('agent') agent: string, @Body() body: LabelsDto, @Actor() actor: string) {
    return this.ownership.setAgentLabels(agent, (body ?? {}) as Record<string, unknown>, actor);
  }
}
