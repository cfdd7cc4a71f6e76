import { Module } from '@nestjs/common';
import { RevocationChecker } from '@certfleet/pki';
import { InventoryController } from './inventory.controller';
import { InventoryQueryService } from './inventory-query.service';
import { InventoryReportService } from './inventory-report.service';
import { REVOCATION_CHECKER, RevocationStatusService } from './revocation-status.service';

@Module({
  providers: [
    InventoryQueryService,
    InventoryReportService,
    RevocationStatusService,
    { provide: REVOCATION_CHECKER, useFactory: () => new RevocationChecker() },
  ],
  controllers: [InventoryController],
  exports: [InventoryReportService, InventoryQueryService, RevocationStatusService],
})
export class InventoryModule {}
