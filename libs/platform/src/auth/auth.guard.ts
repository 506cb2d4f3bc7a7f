import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLog } from '../audit/audit-log';
import { routeOf } from '../http-observation';
import { currentLogContext } from '@lib/observability';
import {
  AuthenticatedRequest,
  headerOf,
  PUBLIC_METADATA,
  REQUIRES_METADATA,
} from './auth.decorators';
import { ForbiddenError, UnauthenticatedError } from './auth.errors';
import { Permission } from './permissions';
import { Principal } from './principal';
import { InvalidTokenError, TokenVerifier } from './token-verifier';

interface Access {
  public: boolean;
  permission?: Permission;
}

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
  private readonly access = new WeakMap<object, Access>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Synchronous when the token was verified before (the common case): a guard that returns a
   * promise costs every request its promise hooks and microtasks.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // Event handlers: the transport and the NATS permissions decide.
    if (context.getType() !== 'http') return true;
    const access = this.accessOf(context);
    if (access.public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = BEARER.exec(headerOf(request, 'authorization') ?? '')?.[1];
    if (!token) {
      return this.deny(request, undefined, 'AUTH.UNAUTHENTICATED: no bearer token').then(() => {
        throw new UnauthenticatedError('a bearer token is required');
      });
    }
    const known = this.verifier.verified(token);
    if (known) return this.authorize(request, known, access.permission);
    return this.verifier.verify(token).then(
      (principal) => this.authorize(request, principal, access.permission),
      async (error: unknown) => {
        if (!(error instanceof InvalidTokenError)) throw error;
        await this.deny(request, undefined, `AUTH.UNAUTHENTICATED: ${error.message}`);
        throw new UnauthenticatedError('the bearer token is not valid');
      },
    );
  }

  /** A handler's `@Public`/`@Requires`, read once per handler. */
  private accessOf(context: ExecutionContext): Access {
    const handler = context.getHandler();
    let access = this.access.get(handler);
    if (!access) {
      const targets = [handler, context.getClass()];
      access = {
        public: this.reflector.getAllAndOverride<string>(PUBLIC_METADATA, targets) !== undefined,
        permission: this.reflector.getAllAndOverride<Permission>(REQUIRES_METADATA, targets),
      };
      if (!access.public && !access.permission) {
        this.logger.error({ msg: 'route declares no permission', handler: handler.name });
      }
      this.access.set(handler, access);
    }
    return access;
  }

  private authorize(
    request: AuthenticatedRequest,
    principal: Principal,
    permission: Permission | undefined,
  ): true | Promise<never> {
    if (!permission || !principal.can(permission)) {
      return this.deny(request, principal, 'AUTH.FORBIDDEN').then(() => {
        throw new ForbiddenError(permission);
      });
    }
    request.principal = principal;
    return true;
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
      // The route template, never the raw path: no ids or input in the record.
      entityId: `${request.method} ${routeOf(request)}`,
      result: 'denied',
      reason,
      requestId: context?.requestId,
      correlationId: context?.correlationId,
    });
  }
}
