import { DynamicModule, Module } from '@nestjs/common';
import { AcmeServerModule } from './app/acme-server/acme-server.module';
import { AgentsModule } from './app/agents/agents.module';
import { AlertsModule } from './app/alerts/alerts.module';
import { AuditModule } from './app/audit/audit.module';
import { AuthModule } from './app/auth/auth.module';
import { BreakglassModule } from './app/breakglass/breakglass.module';
import { CtMonitorModule } from './app/ct-monitor/ct-monitor.module';
import { EndpointsModule } from './app/endpoints/endpoints.module';
import { EnrollmentModule } from './app/enrollment/enrollment.module';
import { FleetCaModule } from './app/fleet-ca/fleet-ca.module';
import { HealthController } from './app/health/health.controller';
import { InventoryModule } from './app/inventory/inventory.module';
import { IssuingCasModule } from './app/issuing-cas/issuing-cas.module';
import { ManagedModule } from './app/managed/managed.module';
import { MetricsModule } from './app/metrics/metrics.module';
import { PolicyModule } from './app/policy/policy.module';
import { ReportsModule } from './app/reports/reports.module';
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
      imports: [DatabaseModule, AuditModule, AuthModule, FleetCaModule, EnrollmentModule, AgentsModule, InventoryModule, IssuingCasModule, ManagedModule, RevocationModule, BreakglassModule, AgentGrpcModule, AcmeServerModule, AlertsModule, EndpointsModule, CtMonitorModule, PolicyModule, MetricsModule, ReportsModule],
      controllers: [HealthController],
      providers: [{ provide: SERVER_CONFIG, useValue: config }],
      exports: [SERVER_CONFIG],
    };
  }
}
