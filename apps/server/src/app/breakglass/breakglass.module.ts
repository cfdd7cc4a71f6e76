import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { IssuingCasModule } from '../issuing-cas/issuing-cas.module';
import { ManagedModule } from '../managed/managed.module';
import { RevocationModule } from '../revocation/revocation.module';
import { BreakglassController } from './breakglass.controller';
import { BreakglassService } from './breakglass.service';
import { CampaignWorker } from './campaign-worker';

/** Emergency fleet-wide revocation and replacement. */
@Module({
  imports: [AuditModule, IssuingCasModule, ManagedModule, RevocationModule],
  providers: [BreakglassService, CampaignWorker],
  controllers: [BreakglassController],
})
export class BreakglassModule {}
