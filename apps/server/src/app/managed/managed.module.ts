import { Module } from '@nestjs/common';
import { AcmeIssuerModule } from '../acme-issuer/acme-issuer.module';
import { AuditModule } from '../audit/audit.module';
import { IssuingCasModule } from '../issuing-cas/issuing-cas.module';
import { JobsService } from '../jobs/jobs.service';
import { PolicyModule } from '../policy/policy.module';
import { RenewalScheduler } from '../jobs/renewal-scheduler';
import { ManagedCertificatesController } from './managed-certificates.controller';
import { ManagedCertificatesService } from './managed-certificates.service';

/** Managed certificates and the jobs that keep them renewed (one module: they share their tables). */
@Module({
  imports: [AuditModule, IssuingCasModule, AcmeIssuerModule, PolicyModule],
  providers: [ManagedCertificatesService, JobsService, RenewalScheduler],
  controllers: [ManagedCertificatesController],
  exports: [ManagedCertificatesService, JobsService, RenewalScheduler],
})
export class ManagedModule {}
