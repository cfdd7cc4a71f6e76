import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { OwnershipModule } from '../ownership/ownership.module';
import { AlertEvaluator } from './alert-evaluator';
import { AlertScheduler } from './alert-scheduler';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';
import { ALERT_CLOCK, systemClock } from './clock';
import { POLICY_FINDINGS_SOURCE } from './policy-findings';
import { PolicyModule } from '../policy/policy.module';
import { PolicyService } from '../policy/policy.service';

/** Alerts (expiry stages, agents offline, failing renewals, policy, revoked, broken chains). */
@Module({
  imports: [AuditModule, NotificationsModule, OwnershipModule, PolicyModule],
  providers: [
    AlertsService,
    AlertEvaluator,
    AlertScheduler,
    { provide: ALERT_CLOCK, useValue: systemClock },
    // The fleet policy's stored findings (apps/server/src/app/policy) raise policy-violation alerts.
    { provide: POLICY_FINDINGS_SOURCE, useExisting: PolicyService },
  ],
  controllers: [AlertsController],
  exports: [AlertEvaluator, AlertsService],
})
export class AlertsModule {}
