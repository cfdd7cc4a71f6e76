import { Module } from '@nestjs/common';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';
import { IdentityRecoveryService } from './identity-recovery.service';

@Module({ imports: [FleetCaModule], providers: [AgentsService, IdentityRecoveryService], controllers: [AgentsController], exports: [AgentsService, IdentityRecoveryService] })
export class AgentsModule {}
