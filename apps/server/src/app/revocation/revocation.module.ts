import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { IssuingCasModule } from '../issuing-cas/issuing-cas.module';
import { CrlPublisher } from './crl-publisher.service';
import { OcspResponder } from './ocsp-responder.service';
import { RevocationController } from './revocation.controller';
import { RevocationEvents } from './revocation-events.service';
import { RevocationService } from './revocation.service';

/** Revoking what the internal CAs issued, and publishing it: CRLs, the OCSP responder. */
@Module({
  imports: [AuditModule, IssuingCasModule],
  providers: [CrlPublisher, OcspResponder, RevocationEvents, RevocationService],
  controllers: [RevocationController],
  exports: [CrlPublisher, OcspResponder, RevocationService],
})
export class RevocationModule {}
