import { Module } from '@nestjs/common';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';

@Module({ providers: [AgentsService], controllers: [AgentsController], exports: [AgentsService] })
export class AgentsModule {}
