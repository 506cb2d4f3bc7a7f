import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { OperatorApiError } from '@lib/operator-api';
import { DeadLetterNotFoundError, OperationError } from '@lib/operations';
import {
  DomainError,
  ForbiddenError,
  Permission,
  ROLE_PERMISSIONS,
  ROLES,
  UnauthenticatedError,
} from '@lib/platform';
import { ConsoleRequest, cookieOptions, SESSION_COOKIE } from '../session/session';
import { html } from './html';
import { notice, page } from './layout';

interface Refusal {
  status: number;
  title: string;
  message: string;
}

/**
 * Every error as a page (or, signed out, the way to the sign-in page): what went wrong in words,
 * never a stack or the input. An app's refusal keeps its status and message (a 409 names the
 * state); an app that cannot be reached is a 502; anything unforeseen a 500, logged.
 */
@Catch()
export class ConsoleErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ConsolePages');

  constructor(private readonly secureCookies: boolean) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<ConsoleRequest>();
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;
    if (isSignedOut(error)) {
      // An expired or refused token is forgotten: the next sign-in starts clean.
      response.clearCookie(SESSION_COOKIE, cookieOptions(this.secureCookies));
      const next =
        request.method === 'GET' ? `?next=${encodeURIComponent(request.originalUrl)}` : '';
      response.redirect(303, `/login${next}`);
      return;
    }
    const refusal = this.refusalOf(error, request);
    if (error instanceof DomainError && error.headers) response.set(error.headers);
    response
      .status(refusal.status)
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(
        page(
          { principal: request.principal, csrfToken: request.csrfToken ?? '' },
          refusal.title,
          html`${notice('error', refusal.message)}
            <p><a href="/sagas">Back to the sagas</a></p>`,
        ),
      );
  }

  private refusalOf(error: unknown, request: ConsoleRequest): Refusal {
    if (error instanceof ForbiddenError && request.principal) {
      const roles = request.principal.roles.join(', ') || 'none';
      const granted = error.permission ? rolesGranting(error.permission as Permission) : '';
      return {
        status: 403,
        title: 'Not allowed',
        message: `Your token's roles (${roles}) do not grant ${error.permission ?? 'this page'}${granted ? `, which these roles grant: ${granted}` : ''}.`,
      };
    }
    if (error instanceof OperatorApiError) {
      // The app's own refusal of the operator's token or request: its status and words.
      if (error.status < 500)
        return { status: error.status, title: titleOf(error.status), message: error.message };
      return {
        status: 502,
        title: 'An app failed',
        message: `It answered ${error.status}: ${error.message}`,
      };
    }
    if (error instanceof DeadLetterNotFoundError)
      return { status: 404, title: 'Not found', message: error.message };
    if (error instanceof DomainError)
      return { status: error.status, title: titleOf(error.status), message: error.message };
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return {
        status,
        title: titleOf(status),
        message: status === 404 ? 'There is no such page.' : error.message,
      };
    }
    if (error instanceof OperationError)
      return { status: 503, title: 'Not done', message: error.message };
    if (error instanceof TypeError && /fetch failed/.test(error.message))
      return {
        status: 502,
        title: 'An app cannot be reached',
        message: 'An app the console calls does not answer; try again shortly.',
      };
    this.logger.error({ msg: 'console page failed', err: error });
    return {
      status: 500,
      title: 'Something went wrong',
      message: 'The console failed to show this page; the log says why.',
    };
  }
}

function isSignedOut(error: unknown): boolean {
  return (
    error instanceof UnauthenticatedError ||
    (error instanceof OperatorApiError && error.status === 401)
  );
}

function titleOf(status: number): string {
  const titles: Record<number, string> = {
    400: 'Not understood',
    403: 'Not allowed',
    404: 'Not found',
    409: 'Not possible now',
    413: 'Too large',
    415: 'Not understood',
    422: 'Not possible',
    429: 'Too many requests',
  };
  return titles[status] ?? 'Refused';
}

function rolesGranting(permission: Permission): string {
  return ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(permission)).join(', ');
}
