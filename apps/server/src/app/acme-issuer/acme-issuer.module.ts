import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { RevocationModule } from '../revocation/revocation.module';
import { AcmeIssuersController } from './acme-issuers.controller';
import { AcmeIssuersService } from './acme-issuers.service';
import { AcmeOrdersService } from './acme-orders.service';
import { AriScheduler } from './ari-scheduler.service';
import { AcmeRevocationService } from './acme-revocation.service';

/** ACME issuers (configuration, account) and the orders that issue managed certificates through them. */
@Module({ imports: [FleetCaModule, AuditModule, RevocationModule], providers: [AcmeIssuersService, AcmeOrdersService, AcmeRevocationService, AriScheduler], controllers: [AcmeIssuersController], exports: [AcmeIssuersService, AcmeOrdersService] })
export class AcmeIssuerModule {}
