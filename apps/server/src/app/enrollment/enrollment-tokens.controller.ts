import { BadRequestException, Body, Controller, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { EnrollmentService, MAX_TOKEN_TTL_SECONDS } from './enrollment.service';

class CreateEnrollmentTokenDto {
  @ApiProperty({ minimum: 60, maximum: MAX_TOKEN_TTL_SECONDS, example: 3600 })
  ttlSeconds!: number;

  @ApiPropertyOptional({ example: 'web fleet, rack 4' })
  description?: string;
}

class EnrollmentTokenDto {
  @ApiProperty({ description: 'The one-time token; shown only once' }) token!: string;
  @ApiProperty() id!: string;
  @ApiProperty() expiresAt!: Date;
}

@ApiTags('enrollment')
@ApiBearerAuth()
@Controller('api/v1/enrollment-tokens')
export class EnrollmentTokensController {
  constructor(@Inject(EnrollmentService) private readonly enrollment: EnrollmentService) {}

  @Post()
  @ApiCreatedResponse({ type: EnrollmentTokenDto })
  async create(@Body() body: CreateEnrollmentTokenDto): Promise<EnrollmentTokenDto> {
    const ttl = Number(body?.ttlSeconds);
    const description = typeof body?.description === 'string' ? body.description.slice(0, 500) : '';
    try {
      return await this.enrollment.createToken(ttl, description);
    } catch (err) {
      if (err instanceof RangeError) throw new BadRequestException(err.message);
      throw err;
    }
  }
}
