import { Module } from '@nestjs/common';
import { FleetCaController } from './fleet-ca.controller';
import { FleetCaService } from './fleet-ca.service';

@Module({ providers: [FleetCaService], controllers: [FleetCaController], exports: [FleetCaService] })
export class FleetCaModule {}
