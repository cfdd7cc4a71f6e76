import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTokenService } from './api-token.service';

const PUBLIC = 'certfleet:public';
/** Marks a route that needs no admin token (health checks). */
export const Public = () => SetMetadata(PUBLIC, true);

/** The audit actor of an authenticated request ("token:<name>"), set by AdminAuthGuard. */
export const Actor = createParamDecorator((_: unknown, context: ExecutionContext): string =>
  context.switchToHttp().getRequest<{ actor?: string }>().actor ?? 'token:unknown',
);

/** Every REST route requires `Authorization: Bearer <admin token>` unless marked @Public(). */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiTokenService) private readonly tokens: ApiTokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; actor?: string }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new UnauthorizedException('missing "Authorization: Bearer <admin API token>" header');
    const token = await this.tokens.find(match[1]);
    if (!token) throw new UnauthorizedException('invalid or revoked API token');
    request.actor = `token:${token.name}`;
    return true;
  }
}
