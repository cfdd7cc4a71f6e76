import { Module } from '@nestjs/common';
import { FleetCaModule } from '../fleet-ca/fleet-ca.module';
import { EnrollmentTokensController } from './enrollment-tokens.controller';
import { EnrollmentService } from './enrollment.service';

@Module({
  imports: [FleetCaModule],
  providers: [EnrollmentService],
  controllers: [EnrollmentTokensController],
  exports: [EnrollmentService],
})
export class EnrollmentModule {}
