import { CanActivate, ExecutionContext, Provider, SetMetadata } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { normalizeIp, ThrottlerStorage } from '@nestjs/throttler';
import { counter } from '@lib/observability';
import { AuthenticatedRequest } from '../auth/auth.decorators';
import { BaseConfig } from '../base.config';
import { DomainError } from '../http-errors';

const SKIP_RATE_LIMIT_METADATA = 'rate-limit:skip';

/** A route outside the limits: probes and scrapes come from the platform, not from clients. */
export const SkipRateLimit = () => SetMetadata(SKIP_RATE_LIMIT_METADATA, true);

/** Who a limit counts: the client's address (before authentication) or the token's principal. */
export type RateLimitScope = 'ip' | 'principal';
/** Limits are counted apart for reads and writes: a client polling its orders can still place one. */
export type RouteClass = 'reads' | 'writes';

/** Requests per window of each scope and route class; 0 turns that limit off. */
export interface RateLimits {
  windowMs: number;
  ip: Record<RouteClass, number>;
  principal: Record<RouteClass, number>;
}

/** The global guard of one scope, for an app module's providers (the apps and the console). */
export function rateLimitGuard(scope: RateLimitScope, config: BaseConfig): Provider {
  return {
    provide: APP_GUARD,
    useFactory: (storage: ThrottlerStorage, reflector: Reflector) =>
      new RateLimitGuard(scope, rateLimitsOf(config), storage, reflector),
    inject: [ThrottlerStorage, Reflector],
  };
}

export function rateLimitsOf(config: BaseConfig): RateLimits {
  return {
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    ip: { reads: config.RATE_LIMIT_IP_READS, writes: config.RATE_LIMIT_IP_WRITES },
    principal: {
      reads: config.RATE_LIMIT_PRINCIPAL_READS,
      writes: config.RATE_LIMIT_PRINCIPAL_WRITES,
    },
  };
}

export class RateLimitedError extends DomainError {
  readonly code = 'RATE.LIMITED';
  readonly status = 429;
  override readonly headers: Record<string, string>;

  constructor(retryAfterSeconds: number) {
    super(`too many requests: retry after ${retryAfterSeconds} s`);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

const TRACKERS: Record<RateLimitScope, (request: AuthenticatedRequest) => string | undefined> = {
  // IPv6 clients hold whole /64 networks: one of them is one client.
  ip: (request) => normalizeIp(request.ip ?? 'unknown'),
  // Public routes have no principal; their callers are limited by address only.
  principal: ({ principal }) => principal && JSON.stringify([principal.tenantId, principal.sub]),
};

const rateLimited = counter({
  name: 'http_rate_limited_total',
  help: 'HTTP requests refused with 429, by limit',
  labelNames: ['scope', 'route_class'],
});

/**
 * A sliding-window limit per client of one scope, in this process (N replicas allow N times the
 * limit). Registered twice as a global guard: the address limit before the AuthGuard, so floods
 * of bad tokens are refused before they cost a verification and a denial record, and the
 * principal limit after it. A refused request answers 429 `RATE.LIMITED` with `Retry-After`
 * and reaches no handler.
 */
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly scope: RateLimitScope,
    private readonly limits: RateLimits,
    private readonly storage: ThrottlerStorage,
    private readonly reflector: Reflector,
  ) {}

  /** Synchronous when no limit applies: a guard's promise costs every request its microtasks. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const routeClass: RouteClass = READS.has(request.method) ? 'reads' : 'writes';
    const limit = this.limits[this.scope][routeClass];
    if (limit === 0) return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT_METADATA, targets)) return true;
    const tracker = TRACKERS[this.scope](request);
    if (tracker === undefined) return true;
    return this.count(`${this.scope}:${routeClass}:${tracker}`, limit, routeClass);
  }

  private async count(key: string, limit: number, routeClass: RouteClass): Promise<boolean> {
    // No block duration: a client over the limit is refused until its oldest request in the
    // window expires, and the refused requests do not count.
    const { isBlocked, timeToBlockExpire } = await this.storage.increment(
      key,
      this.limits.windowMs,
      limit,
      0,
      routeClass,
    );
    if (!isBlocked) return true;
    rateLimited.inc({ scope: this.scope, route_class: routeClass });
    throw new RateLimitedError(Math.max(1, timeToBlockExpire));
  }
}
