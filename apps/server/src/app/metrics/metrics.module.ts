import { Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { AgentGrpcServer } from '../../grpc/agent/v1/agent-grpc.server';
import { MetricsController } from './metrics.controller';
import { METRICS_SERVICE, MetricsService } from './metrics.service';

@Module({
  providers: [
    {
      provide: METRICS_SERVICE,
      inject: [DataSource, SERVER_CONFIG, ModuleRef],
      // The gRPC server is looked up at scrape time (not injected) so this module needs no import of it.
      useFactory: (ds: DataSource, config: ServerConfig, refs: ModuleRef) =>
        new MetricsService(ds, config, () => {
          try {
            return refs.get(AgentGrpcServer, { strict: false }).sessions.size;
          } catch {
            return 0;
          }
        }),
    },
  ],
  controllers: [MetricsController],
  exports: [METRICS_SERVICE],
})
export class MetricsModule {}
