import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ForbiddenError,
  InvalidTokenError,
  Permission,
  Principal,
  PUBLIC_METADATA,
  REQUIRES_METADATA,
  TokenVerifier,
  UnauthenticatedError,
} from '@lib/platform';
import { checkCsrf, ConsoleRequest, cookiesOf, SESSION_COOKIE } from './session';

/** What signing in to the console takes: the operators' read model of the sagas. */
export const CONSOLE_PERMISSION: Permission = 'sagas:read';

/**
 * Every page and form of the console. A form post must carry the browser's CSRF value (before
 * anything else). `@Public` pages pass; the others need the session cookie's token, verified as
 * the apps verify tokens (libs/platform: signature, issuer, audience, expiry), whose roles grant
 * the console and the page's `@Requires` permission. A page that declares neither is refused.
 */
@Injectable()
export class ConsoleGuard implements CanActivate {
  private readonly logger = new Logger('ConsoleAccess');

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    if (request.method === 'POST') checkCsrf(request);
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<string>(PUBLIC_METADATA, targets) !== undefined)
      return true;
    const permission = this.reflector.getAllAndOverride<Permission>(REQUIRES_METADATA, targets);
    const token = cookiesOf(request)[SESSION_COOKIE];
    if (!token) throw new UnauthenticatedError('sign in with an operator token');
    let principal: Principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      throw new UnauthenticatedError('the token is no longer valid: sign in again');
    }
    // Known, allowed or not: a refusal page names who is refused.
    request.principal = principal;
    if (!principal.can(CONSOLE_PERMISSION) || !permission || !principal.can(permission)) {
      this.logger.warn({
        msg: 'console page refused',
        sub: principal.sub,
        tenantId: principal.tenantId,
        permission: permission ?? null,
        route: request.route ? String((request.route as { path?: unknown }).path) : null,
      });
      throw new ForbiddenError(permission);
    }
    request.sessionToken = token;
    return true;
  }
}
