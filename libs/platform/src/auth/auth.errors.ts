import { DomainError } from '../http-errors';

/** No token, or one that does not verify: 401 with `WWW-Authenticate: Bearer`. */
export class UnauthenticatedError extends DomainError {
  readonly code = 'AUTH.UNAUTHENTICATED';
  readonly status = 401;
  override readonly headers = { 'WWW-Authenticate': 'Bearer' };
}

/** A valid token without the permission the route requires. */
export class ForbiddenError extends DomainError {
  readonly code = 'AUTH.FORBIDDEN';
  readonly status = 403;

  constructor(readonly permission?: string) {
    super(permission ? `this route requires the ${permission} permission` : 'not allowed');
  }
}
