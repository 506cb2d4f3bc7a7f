import { Body, Controller, Get, Inject, Logger, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  InvalidTokenError,
  Principal,
  Public,
  ROLE_PERMISSIONS,
  ROLES,
  TokenVerifier,
} from '@lib/platform';
import { ConsoleConfig } from '../config';
import { CONSOLE_CONFIG } from '../console-config.token';
import { html } from '../pages/html';
import { csrfField, notice, page, PageContext } from '../pages/layout';
import { Page } from '../pages/page.decorator';
import { CONSOLE_PERMISSION } from './console.guard';
import { ConsoleRequest, cookieOptions, cookiesOf, newCsrfToken, SESSION_COOKIE } from './session';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Where a sign-in may lead: a path of the console, never another site (`//host`, `/\host`). */
const LOCAL_PATH = /^\/(?![/\\])[\x21-\x7e]*$/;

/**
 * Signing in with a bearer token: the token is verified as the apps verify it and must grant the
 * console (an operator's); it is then kept in an HttpOnly, SameSite=Strict cookie and sent on to
 * the apps with every call the pages make. The page never shows it again.
 */
@Controller()
export class LoginController {
  private readonly logger = new Logger('ConsoleAccess');

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    private readonly verifier: TokenVerifier,
  ) {}

  private get secure(): boolean {
    return this.config.NODE_ENV === 'production';
  }

  @Get()
  @Public('sends to the sagas, or to the sign-in page')
  home(@Res() response: Response): void {
    response.redirect(303, '/sagas');
  }

  @Get('login')
  @Public('the sign-in page')
  @Page()
  loginPage(@Req() request: ConsoleRequest, @Query('next') next?: unknown): string {
    return this.loginForm(request, localPath(next));
  }

  @Post('login')
  @Public('signs in: checks the token it is given')
  async login(
    @Req() request: ConsoleRequest,
    @Res() response: Response,
    @Body() body: Record<string, unknown>,
  ): Promise<void> {
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const next = localPath(body.next) ?? '/sagas';
    let principal: Principal;
    try {
      if (!JWT.test(token)) throw new InvalidTokenError('not a JWT');
      principal = await this.verifier.verify(token);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      this.logger.warn({ msg: 'console sign-in refused', reason: 'invalid token' });
      return this.refuse(
        request,
        response,
        401,
        'That is not a valid token of this platform (or it has expired).',
        next,
      );
    }
    if (!principal.can(CONSOLE_PERMISSION)) {
      this.logger.warn({
        msg: 'console sign-in refused',
        sub: principal.sub,
        roles: principal.roles,
      });
      return this.refuse(
        request,
        response,
        403,
        `This token's roles (${principal.roles.join(', ') || 'none'}) do not grant the console: it takes a token of ${rolesWithConsole()}.`,
        next,
      );
    }
    response.cookie(SESSION_COOKIE, token, cookieOptions(this.secure));
    // A CSRF value planted before the sign-in is worth nothing after it.
    newCsrfToken(response, this.secure);
    this.logger.log({ msg: 'console sign-in', sub: principal.sub, tenantId: principal.tenantId });
    response.redirect(303, next);
  }

  @Post('logout')
  @Public('signs out: forgets the token')
  logout(@Req() request: ConsoleRequest, @Res() response: Response): void {
    if (cookiesOf(request)[SESSION_COOKIE])
      response.clearCookie(SESSION_COOKIE, cookieOptions(this.secure));
    response.redirect(303, '/login');
  }

  private refuse(
    request: ConsoleRequest,
    response: Response,
    status: number,
    message: string,
    next: string,
  ): void {
    response
      .status(status)
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(this.loginForm(request, next, message));
  }

  private loginForm(request: ConsoleRequest, next?: string, error?: string): string {
    const context: PageContext = { csrfToken: request.csrfToken };
    const development = this.config.NODE_ENV !== 'production';
    return page(
      context,
      'Sign in',
      html`<div class="login">
        ${error ? notice('error', error) : ''}
        <p>
          Paste the bearer token your identity provider issued you. It needs an operator's role
          (${rolesWithConsole()}); it is kept in a cookie this page cannot read back and sent to the
          apps with each of your requests, which audit what you do under its <code>sub</code>.
        </p>
        ${
          development
            ? html`<p class="hint">
                Development: <code>npm run dev</code> prints a platform-operator token;
                <code>npm run -s cli -- token --sub you --roles platform-operator</code> mints
                another.
              </p>`
            : ''
        }
        <form method="post" action="/login">
          ${csrfField(context)}
          ${next ? html`<input type="hidden" name="next" value="${next}" />` : ''}
          <p>
            <label for="token">Bearer token</label>
            <input
              type="password"
              id="token"
              name="token"
              autocomplete="off"
              required
              spellcheck="false"
            />
          </p>
          <p><button type="submit">Sign in</button></p>
        </form>
      </div>`,
    );
  }
}

function localPath(value: unknown): string | undefined {
  return typeof value === 'string' && LOCAL_PATH.test(value) ? value : undefined;
}

function rolesWithConsole(): string {
  return ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(CONSOLE_PERMISSION)).join(' or ');
}
