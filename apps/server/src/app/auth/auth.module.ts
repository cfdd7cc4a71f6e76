import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminAuthGuard } from './admin-auth.guard';
import { ApiTokenService } from './api-token.service';

@Module({
  providers: [ApiTokenService, { provide: APP_GUARD, useClass: AdminAuthGuard }],
  exports: [ApiTokenService],
})
export class AuthModule {}
