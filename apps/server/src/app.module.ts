import { DynamicModule, Module } from '@nestjs/common';
import { AgentsModule } from './app/agents/agents.module';
import { AuditModule } from './app/audit/audit.module';
import { AuthModule } from './app/auth/auth.module';
import { BreakglassModule } from './app/breakglass/breakglass.module';
import { EnrollmentModule } from './app/enrollment/enrollment.module';
import { FleetCaModule } from './app/fleet-ca/fleet-ca.module';
import { HealthController } from './app/health/health.controller';
import { InventoryModule } from './app/inventory/inventory.module';
import { IssuingCasModule } from './app/issuing-cas/issuing-cas.module';
import { ManagedModule } from './app/managed/managed.module';
import { RevocationModule } from './app/revocation/revocation.module';
import { SERVER_CONFIG, ServerConfig } from './config/server-config';
import { DatabaseModule } from './database/database.module';
import { AgentGrpcModule } from './grpc/agent/v1/agent-grpc.module';

@Module({})
export class AppModule {
  static forConfig(config: ServerConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [DatabaseModule, AuditModule, AuthModule, FleetCaModule, EnrollmentModule, AgentsModule, InventoryModule, IssuingCasModule, ManagedModule, RevocationModule, BreakglassModule, AgentGrpcModule],
      controllers: [HealthController],
      providers: [{ provide: SERVER_CONFIG, useValue: config }],
      exports: [SERVER_CONFIG],
    };
  }
}
