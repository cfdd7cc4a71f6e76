import { Module } from '@nestjs/common';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';

@Module({ imports: [FleetCaModule], providers: [AgentsService], controllers: [AgentsController], exports: [AgentsService] })
export class AgentsModule {}
