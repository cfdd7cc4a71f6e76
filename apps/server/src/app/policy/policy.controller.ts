import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { POLICY_PRESETS, SEVERITIES, type FleetPolicy, type Severity } from '@certfleet/policy';
import { Actor } from '../auth/admin-auth.guard';
import { ActivePolicy, FindingView, PolicyService } from './policy.service';
import type { PassSummary } from './policy-pass';

@ApiTags('policy')
@ApiBearerAuth()
@Controller('api/v1/policy')
export class PolicyController {
  constructor(@Inject(PolicyService) private readonly policies: PolicyService) {}

  /** The active fleet policy (the built-in baseline until one is set). */
  @Get()
  active(): Promise<ActivePolicy> {
    return this.policies.active();
  }

  /** The built-in presets, by name. */
  @Get('presets')
  presets(): Record<string, FleetPolicy> {
    return POLICY_PRESETS as Record<string, FleetPolicy>;
  }

  /** Replaces the active policy with a JSON policy document or `{"preset": "public-tls"}`; findings are recomputed before it answers. */
  @Put()
  @ApiBody({ description: 'A policy {"name", "rules": [...]} or {"preset": "baseline" | "public-tls"}' })
  set(@Body() body: unknown, @Actor() actor: string): Promise<{ policy: ActivePolicy; pass: PassSummary | undefined }> {
    return this.policies.set(body, actor);
  }

  /** The same as PUT, for clients that only POST. */
  @Post()
  @HttpCode(200)
  setByPost(@Body() body: unknown, @Actor() actor: string): Promise<{ policy: ActivePolicy; pass: PassSummary | undefined }> {
    return this.policies.set(body, actor);
  }

  /** Recomputes the findings now. */
  @Post('evaluate')
  @HttpCode(200)
  evaluate(): Promise<PassSummary | undefined> {
    return this.policies.runPass();
  }

  @Get('findings')
  @ApiQuery({ name: 'severity', required: false, enum: SEVERITIES })
  @ApiQuery({ name: 'rule', required: false, description: 'rule id' })
  @ApiQuery({ name: 'fingerprint', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  @ApiOkResponse({ description: 'Findings, most severe first' })
  findings(
    @Query('severity') severity?: string,
    @Query('rule') rule?: string,
    @Query('fingerprint') fingerprint?: string,
    @Query('limit') limit?: string,
    @Query('offset') offset?: string,
  ): Promise<{ total: number; items: FindingView[] }> {
    if (severity !== undefined && !SEVERITIES.includes(severity as Severity)) throw new BadRequestException(`severity must be one of ${SEVERITIES.join(', ')}`);
    if (fingerprint !== undefined && !/^[0-9a-f]{64}$/.test(fingerprint.replace(/:/g, '').toLowerCase())) throw new BadRequestException('fingerprint must be a SHA-256 fingerprint (64 hex digits)');
    return this.policies.findings({ severity: severity as Severity | undefined, ruleId: rule, fingerprint, limit: count('limit', limit), offset: count('offset', offset) });
  }
}

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new BadRequestException(`${name} must be a non-negative integer`);
  return n;
}
