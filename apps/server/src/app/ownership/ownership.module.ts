import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { OwnershipController } from './ownership.controller';
import { OwnershipService } from './ownership.service';

/** Owners and tags of certificates (by hand and by rules), agent labels. */
@Module({ imports: [AuditModule], providers: [OwnershipService], controllers: [OwnershipController], exports: [OwnershipService] })
export class OwnershipModule {}
