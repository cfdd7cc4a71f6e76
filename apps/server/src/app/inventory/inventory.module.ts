import { Module } from '@nestjs/common';
import { InventoryController } from './inventory.controller';
import { InventoryQueryService } from './inventory-query.service';
import { InventoryReportService } from './inventory-report.service';

@Module({
  providers: [InventoryQueryService, InventoryReportService],
  controllers: [InventoryController],
  exports: [InventoryReportService, InventoryQueryService],
})
export class InventoryModule {}
