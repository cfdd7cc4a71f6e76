import { Module } from '@nestjs/common';
import { EndpointsController } from './endpoints.controller';
import { EndpointsService } from './endpoints.service';

/** TLS endpoint monitoring: targets the server probes, listeners agents report. */
@Module({
  providers: [EndpointsService],
  controllers: [EndpointsController],
  exports: [EndpointsService],
})
export class EndpointsModule {}
