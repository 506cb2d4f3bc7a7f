import { DynamicModule, Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { urlencoded } from 'express';
import {
  createHttpApp,
  hasBody,
  HttpEdge,
  InvalidRequestError,
  RequestTooLargeError,
  serveMetricsPort,
  UnsupportedMediaTypeError,
} from '@lib/platform';
import { ConsoleConfig } from './config';
import { ConsoleErrorsFilter } from './pages/console-errors.filter';
import { csrfCookie } from './session/session';

/** Form posts are small: a note, a CSRF value, at most 500 dead-letter sequences. */
const FORM_LIMIT = '32kb';

/**
 * Pages may load their stylesheet from the console and post forms to it, nothing else: no script
 * at all (none is needed), no frames, no other origin. The referrer goes to the console only:
 * with `no-referrer` browsers send `Origin: null` on form posts, which the CSRF check refuses.
 */
const PAGE_SECURITY_HEADERS: HttpEdge['securityHeaders'] = {
  referrerPolicy: { policy: 'same-origin' },
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  },
};

/**
 * The only body parser: HTML forms (urlencoded, flat: a repeated name is a list), up to FORM_LIMIT.
 * Anything else is refused before a guard or handler sees it.
 */
export function formBody(): RequestHandler {
  const parse = urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 1000 });
  const logger = new Logger('RequestBody');
  return (req: Request, res: Response, next: NextFunction) => {
    if (hasBody(req) && !req.is('application/x-www-form-urlencoded')) {
      logger.warn({ msg: 'request body refused', method: req.method });
      return next(new UnsupportedMediaTypeError('the console takes HTML forms only'));
    }
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const status = (error as { status?: unknown }).status;
      next(
        status === 413
          ? new RequestTooLargeError(`forms are limited to ${FORM_LIMIT}`)
          : new InvalidRequestError('the form could not be read'),
      );
    });
  };
}

/** The console's HTTP app: the platform's hardened edge, with pages, forms and CSRF cookies. */
export async function createConsoleApp(
  module: DynamicModule,
  service: string,
  config: ConsoleConfig,
): Promise<NestExpressApplication> {
  const secure = config.NODE_ENV === 'production';
  const app = await createHttpApp(module, service, config, {
    securityHeaders: PAGE_SECURITY_HEADERS,
    bodyParser: formBody(),
  });
  app.use(csrfCookie(secure));
  app.useGlobalFilters(new ConsoleErrorsFilter(secure));
  await app.init();
  await serveMetricsPort(app, config);
  return app;
}
