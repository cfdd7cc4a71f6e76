import { Module } from '@nestjs/common';
import { CtMonitorController } from './ct-monitor.controller';
import { CtMonitorService } from './ct-monitor.service';

/** Certificate Transparency monitoring of watched domains. */
@Module({
  providers: [CtMonitorService],
  controllers: [CtMonitorController],
})
export class CtMonitorModule {}
