import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AuthenticatedRequest, headerOf } from '../auth/auth.decorators';
import { routeOf } from '../http-observation';
import { DomainError, InvalidRequestError } from '../http-errors';

/** Where a key is valid: one tenant, one principal, one route. */
export interface IdempotencyScope {
  tenantId: string;
  principal: string;
  /** The route template, e.g. `POST /orders/:id/cancel`. */
  route: string;
  key: string;
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const KEY_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/** The principal reused its key with another request: 422, and nothing is done. */
export class IdempotencyKeyReusedError extends DomainError {
  readonly code = 'REQUEST.IDEMPOTENCY_KEY_REUSED';
  readonly status = 422;

  constructor() {
    super('this Idempotency-Key was used for another request');
  }
}

/**
 * The request's `Idempotency-Key` in the scope of its caller and route, or undefined without one.
 * On `@Requires` routes only: the scope needs the principal.
 */
export function idempotencyScopeOf(
  _data: unknown,
  context: ExecutionContext,
): IdempotencyScope | undefined {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  const key = headerOf(request, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidRequestError(
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
    );
  }
  const { principal } = request;
  if (!principal) throw new Error('IdempotencyKey on a route without @Requires');
  return {
    tenantId: principal.tenantId,
    principal: principal.sub,
    route: `${request.method} ${routeOf(request)}`,
    key,
  };
}

/** The `Idempotency-Key` of a `@Requires` route's request, scoped (idempotencyScopeOf). */
export const IdempotencyKey = createParamDecorator(idempotencyScopeOf);
