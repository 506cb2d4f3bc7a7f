import { DynamicModule, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { urlencoded } from 'express';
import helmet from 'helmet';
import { createLogger, LogLevel, PinoNestLogger, withLogContext } from '@lib/observability';
import {
  BaseConfig,
  correlate,
  createHardenedServer,
  hasBody,
  InvalidRequestError,
  RequestTooLargeError,
  SecurityHeaders,
  serveMetricsPort,
  UnsupportedMediaTypeError,
  watchRequest,
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
const PAGE_SECURITY_HEADERS: SecurityHeaders = {
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

/**
 * The console's HTTP app: the platform's hardened server, ids, metrics, access log and security
 * headers, with pages, forms and CSRF cookies. On Express, not the apps' Fastify: it serves a few
 * operators, and its cookies, forms and redirects are Express's own.
 */
export async function createConsoleApp(
  module: DynamicModule,
  service: string,
  config: ConsoleConfig,
): Promise<NestExpressApplication> {
  const secure = config.NODE_ENV === 'production';
  const logger = createLogger(service, config.LOG_LEVEL as LogLevel);
  const app = await NestFactory.create<NestExpressApplication>(
    module,
    new HardenedExpressAdapter(config),
    {
      // formBody is the only parser.
      bodyParser: false,
      bufferLogs: true,
      abortOnError: false,
      logger: new PinoNestLogger(logger),
    },
  );
  app.disable('x-powered-by');
  if (config.HTTP_TRUST_PROXY_HOPS > 0) app.set('trust proxy', config.HTTP_TRUST_PROXY_HOPS);
  app.use(helmet(PAGE_SECURITY_HEADERS));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const ids = correlate(req.headers, res);
    watchRequest(logger, req, res, ids.requestId);
    withLogContext(ids, next);
  });
  app.use(formBody());
  app.use(csrfCookie(secure));
  app.useGlobalFilters(new ConsoleErrorsFilter(secure));
  await app.init();
  await serveMetricsPort(app, config);
  return app;
}

/** Express on the platform's hardened server (timeouts and connection limit). */
class HardenedExpressAdapter extends ExpressAdapter {
  constructor(private readonly config: BaseConfig) {
    super();
  }

  override initHttpServer(): void {
    this.httpServer = createHardenedServer(this.config, this.getInstance());
  }
}
