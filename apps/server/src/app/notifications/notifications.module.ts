import { Module } from '@nestjs/common';
import { ALERT_CLOCK, systemClock } from '../alerts/clock';
import { AuditModule } from '../audit/audit.module';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { ChannelsService } from './channels.service';
import { DeliveryWorker } from './delivery-worker';
import { NotificationsController } from './notifications.controller';

/** Notification channels (webhook, Slack, SMTP, command) and the delivery of alert notifications. */
@Module({
  imports: [AuditModule, FleetCaModule],
  providers: [ChannelsService, DeliveryWorker, { provide: ALERT_CLOCK, useValue: systemClock }],
  controllers: [NotificationsController],
  exports: [ChannelsService, DeliveryWorker],
})
export class NotificationsModule {}
