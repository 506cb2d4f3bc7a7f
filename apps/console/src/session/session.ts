import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieOptions, NextFunction, Request, Response } from 'express';
import { AuthenticatedRequest, DomainError } from '@lib/platform';

/** The bearer token the operator signed in with: HttpOnly, so no script can read it. */
export const SESSION_COOKIE = 'console_session';
/** A random value every form repeats: a page of another site cannot know it (double submit). */
export const CSRF_COOKIE = 'console_csrf';
export const CSRF_FIELD = '_csrf';

/** A request to the console: the CSRF value of its browser, and once signed in its token. */
export interface ConsoleRequest extends Request, AuthenticatedRequest {
  csrfToken: string;
  /** The operator's bearer token, which the console sends on to the apps. */
  sessionToken?: string;
}

/** A form that was not posted by one of the console's own pages. */
export class CsrfRefusedError extends DomainError {
  readonly code = 'CONSOLE.CSRF';
  readonly status = 403;
}

/**
 * Cookies that only this site sends back, and only to itself (SameSite=Strict), never to scripts
 * (HttpOnly); over TLS only in production (Secure), where the console sits behind HTTPS.
 */
export function cookieOptions(secure: boolean): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure, path: '/' };
}

export function cookiesOf(request: Request): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 1) continue;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (!Object.hasOwn(cookies, name)) cookies[name] = decodeURIComponentSafe(value);
  }
  return cookies;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const CSRF_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** Gives the browser its CSRF value when it has none (a first visit, or a tampered cookie). */
export function csrfCookie(secure: boolean) {
  return (request: Request, response: Response, next: NextFunction): void => {
    let token = cookiesOf(request)[CSRF_COOKIE];
    if (!token || !CSRF_VALUE.test(token)) token = newCsrfToken(response, secure);
    (request as ConsoleRequest).csrfToken = token;
    next();
  };
}

/** A fresh value, e.g. at sign-in, so a value planted before it is worth nothing after. */
export function newCsrfToken(response: Response, secure: boolean): string {
  const token = randomBytes(32).toString('base64url');
  response.cookie(CSRF_COOKIE, token, cookieOptions(secure));
  return token;
}

/**
 * A form post must repeat the browser's CSRF value, and come from this site when the browser says
 * where it comes from (Origin, Sec-Fetch-Site): SameSite=Strict cookies already keep other sites'
 * forms from being signed in; these keep a signed-out login form from being posted for the user.
 */
export function checkCsrf(request: ConsoleRequest): void {
  const sent: unknown = (request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
  const expected = Buffer.from(request.csrfToken);
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new CsrfRefusedError(
      'the form has expired or did not come from the console: reload the page and try again',
    );
  const site = request.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin')
    throw new CsrfRefusedError('the form was posted from another site');
  const origin = request.header('origin');
  if (origin !== undefined && hostOf(origin) !== request.header('host'))
    throw new CsrfRefusedError('the form was posted from another site');
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
