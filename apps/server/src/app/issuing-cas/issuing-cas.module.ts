import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { IssuingCasController } from './issuing-cas.controller';
import { IssuingCasService } from './issuing-cas.service';
import { PkiUrls } from './pki-urls';

@Module({ imports: [FleetCaModule, AuditModule], providers: [IssuingCasService, PkiUrls], controllers: [IssuingCasController], exports: [IssuingCasService, PkiUrls] })
export class IssuingCasModule {}
