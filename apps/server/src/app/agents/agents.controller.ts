import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AgentView, AgentsService } from './agents.service';

class AgentDto {
  @ApiProperty() id!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty({ description: 'Seen within three heartbeat intervals' }) online!: boolean;
  @ApiProperty() enrolledAt!: Date;
  @ApiProperty({ nullable: true }) lastSeenAt!: Date | null;
  @ApiProperty({ nullable: true }) lastScanAt!: Date | null;
  @ApiProperty({ description: 'Expiry of the agent identity certificate' }) certificateNotAfter!: Date;
  @ApiProperty() certificates!: number;
  @ApiProperty() problems!: number;
  @ApiProperty({ description: 'Set with certfleet agents label; ownership rules match on them' }) labels!: Record<string, string>;
  @ApiProperty() hostFacts!: Record<string, unknown>;
}

@ApiTags('agents')
@ApiBearerAuth()
@Controller('api/v1/agents')
export class AgentsController {
  constructor(@Inject(AgentsService) private readonly agents: AgentsService) {}

  @Get()
  @ApiOkResponse({ type: [AgentDto] })
  list(): Promise<AgentView[]> {
    return this.agents.list();
  }
}
