import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { Permission } from './permissions';
import { Principal } from './principal';

export const REQUIRES_METADATA = 'auth:requires';
export const PUBLIC_METADATA = 'auth:public';

/** The permission a route requires of the bearer token's roles. */
export const Requires = (permission: Permission) => SetMetadata(REQUIRES_METADATA, permission);

/**
 * A route anyone may call, with the reason it needs no token (health probes, metrics, a webhook
 * that carries its own signature). A route with neither this nor `@Requires` answers 403.
 */
export const Public = (reason: string) => SetMetadata(PUBLIC_METADATA, reason);

/** A request as either adapter hands it over (Fastify for the apps, Express for the console). */
export interface AuthenticatedRequest {
  headers: IncomingHttpHeaders;
  method: string;
  readonly ip: string | undefined;
  principal?: Principal;
}

/** The verified caller of a `@Requires` route. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal on a route without @Requires');
    return principal;
  },
);

/** A request header sent once (Node joins repeated ones), or undefined. */
export function headerOf(
  request: { headers: IncomingHttpHeaders },
  name: string,
): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
