import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { formatFingerprint } from '@certfleet/pki';
import { FleetCaService } from './fleet-ca.service';

class FleetCaDto {
  @ApiProperty({ description: 'Fleet CA certificate, PEM' }) certificatePem!: string;
  @ApiProperty({ example: 'AB:CD:...', description: 'SHA-256 fingerprint agents pin at enrollment' })
  fingerprintSha256!: string;
}

@ApiTags('fleet CA')
@ApiBearerAuth()
@Controller('api/v1/fleet-ca')
export class FleetCaController {
  constructor(@Inject(FleetCaService) private readonly ca: FleetCaService) {}

  @Get()
  @ApiOkResponse({ type: FleetCaDto })
  get(): FleetCaDto {
    return { certificatePem: this.ca.caCertificatePem, fingerprintSha256: formatFingerprint(this.ca.caFingerprint) };
  }
}
