import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/admin-auth.guard';
import { ChannelsService, ChannelView } from './channels.service';

class ChannelDto {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['webhook', 'slack', 'smtp', 'command'] }) type!: string;
  @ApiPropertyOptional({ enum: ['all', 'escalation', 'owner'], default: 'all', description: 'all: every alert; escalation: critical stages; owner: only alerts whose owner names it (smtp: mails owners)' }) role?: string;
  @ApiPropertyOptional({
    description:
      'webhook {url}; slack {}; smtp {host, port, tls: starttls|implicit|off, from, to[], mailOwners, username, caPem}; command {command: [absolute path, args...], timeoutSeconds}',
  })
  settings?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'webhook: HMAC key; slack: the incoming-webhook URL; smtp: password. Encrypted at rest, never shown again.' }) secret?: string;
}

class TestDto {
  @ApiPropertyOptional({ type: [String], description: 'smtp: send the test here instead of settings.to' }) to?: string[];
}

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('api/v1/notification-channels')
export class NotificationsController {
  constructor(@Inject(ChannelsService) private readonly channels: ChannelsService) {}

  @Get()
  list(): Promise<ChannelView[]> {
    return this.channels.list();
  }

  @Post()
  add(@Body() body: ChannelDto, @Actor() actor: string): Promise<ChannelView> {
    return this.channels.add((body ?? {}) as unknown as Record<string, unknown>, actor);
  }

  @Post(':idOrName/test')
  @HttpCode(200)
  @ApiOkResponse({ description: '{delivered, error, ms}' })
  test(@Param('idOrName') idOrName: string, @Body() body: TestDto) {
    return this.channels.test(idOrName, Array.isArray(body?.to) ? body.to.filter((t) => typeof t === 'string') : undefined);
  }

  @Delete(':idOrName')
  @HttpCode(204)
  @ApiNoContentResponse()
  remove(@Param('idOrName') idOrName: string, @Actor() actor: string): Promise<void> {
    return this.channels.remove(idOrName, actor);
  }
}
