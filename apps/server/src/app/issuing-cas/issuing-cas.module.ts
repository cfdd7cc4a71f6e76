import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { IssuingCasController } from './issuing-cas.controller';
import { IssuingCasService } from './issuing-cas.service';

@Module({ imports: [FleetCaModule, AuditModule], providers: [IssuingCasService], controllers: [IssuingCasController], exports: [IssuingCasService] })
export class IssuingCasModule {}
