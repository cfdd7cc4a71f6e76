import { Module } from '@nestjs/common';
import { AgentsModule } from '../../../app/agents/agents.module';
import { EndpointsModule } from '../../../app/endpoints/endpoints.module';
import { EnrollmentModule } from '../../../app/enrollment/enrollment.module';
import { FleetCaModule } from '../../../app/fleet-ca/fleet-ca.module';
import { InventoryModule } from '../../../app/inventory/inventory.module';
import { ManagedModule } from '../../../app/managed/managed.module';
import { AgentGrpcServer } from './agent-grpc.server';

@Module({
  imports: [FleetCaModule, EnrollmentModule, AgentsModule, InventoryModule, ManagedModule, EndpointsModule],
  providers: [AgentGrpcServer],
  exports: [AgentGrpcServer],
})
export class AgentGrpcModule {}
