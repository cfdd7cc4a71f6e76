import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTokenService } from './api-token.service';

const PUBLIC = 'certfleet:public';
/** Marks a route that needs no admin token (health checks). */
export const Public = () => SetMetadata(PUBLIC, true);

/** Every REST route requires `Authorization: Bearer <admin token>` unless marked @Public(). */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiTokenService) private readonly tokens: ApiTokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthorizedException('missing "Authorization: Bearer <admin API token>" header');
    if (!(await this.tokens.isValid(match[1]))) throw new UnauthorizedException('invalid or revoked API token');
    return true;
  }
}
