import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { IssuingCasModule } from '../issuing-cas/issuing-cas.module';
import { ManagedModule } from '../managed/managed.module';
import { RevocationModule } from '../revocation/revocation.module';
import { AcmeAccountsService } from './acme-accounts.service';
import { AcmeAdminController } from './acme-admin.controller';
import { AcmeOrdersService } from './acme-orders.service';
import { AcmeRequestVerifier } from './acme-request';
import { AcmeController } from './acme.controller';
import { NonceStore } from './nonce-store';
import { AcmeRenewalInfoService } from './renewal-info.service';

/** The RFC 8555 ACME server of the internal issuing CAs. */
@Module({
  imports: [AuditModule, FleetCaModule, IssuingCasModule, ManagedModule, RevocationModule],
  providers: [NonceStore, AcmeRequestVerifier, AcmeAccountsService, AcmeRenewalInfoService, AcmeOrdersService],
  controllers: [AcmeController, AcmeAdminController],
})
export class AcmeServerModule {}
