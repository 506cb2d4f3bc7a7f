import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLog } from '../audit/audit-log';
import { currentLogContext } from '@lib/observability';
import { AuthenticatedRequest, PUBLIC_METADATA, REQUIRES_METADATA } from './auth.decorators';
import { ForbiddenError, UnauthenticatedError } from './auth.errors';
import { Permission } from './permissions';
import { Principal } from './principal';
import { InvalidTokenError, TokenVerifier } from './token-verifier';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/**
 * Every HTTP route: `@Public` ones pass; the others need a bearer token whose roles grant the
 * route's `@Requires` permission (401 without a valid token, 403 without the permission, each
 * audited as `denied`). A route that declares neither is refused to everyone: forgetting the
 * permission closes the door instead of opening it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly audit: AuditLog,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Event handlers: the transport and the NATS permissions decide.
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<string>(PUBLIC_METADATA, targets) !== undefined)
      return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const permission = this.reflector.getAllAndOverride<Permission>(REQUIRES_METADATA, targets);
    const principal = await this.authenticate(request);
    if (!permission) {
      this.logger.error({ msg: 'route declares no permission', route: routeOf(request) });
    }
    if (!permission || !principal.can(permission)) {
      await this.deny(request, principal, 'AUTH.FORBIDDEN');
      throw new ForbiddenError(permission);
    }
    request.principal = principal;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal> {
    const match = BEARER.exec(request.header('authorization') ?? '');
    if (!match) {
      await this.deny(request, undefined, 'AUTH.UNAUTHENTICATED: no bearer token');
      throw new UnauthenticatedError('a bearer token is required');
    }
    try {
      return await this.verifier.verify(match[1]!);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      await this.deny(request, undefined, `AUTH.UNAUTHENTICATED: ${error.message}`);
      throw new UnauthenticatedError('the bearer token is not valid');
    }
  }

  private deny(
    request: AuthenticatedRequest,
    principal: Principal | undefined,
    reason: string,
  ): Promise<void> {
    const context = currentLogContext();
    return this.audit.recordAlone({
      actor: principal?.sub ?? 'anonymous',
      tenantId: principal?.tenantId ?? null,
      action: 'http.request',
      entityType: 'route',
      entityId: routeOf(request),
      result: 'denied',
      reason,
      requestId: context?.requestId,
      correlationId: context?.correlationId,
    });
  }
}

/** `POST /orders/:id/cancel`: the route template, never the raw path (no ids or input in the record). */
function routeOf(request: AuthenticatedRequest): string {
  const path = (request.route as { path?: string } | undefined)?.path ?? 'unknown';
  return `${request.method} ${path}`;
}
