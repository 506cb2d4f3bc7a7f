import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { connectJetStream } from '@lib/messaging';
import {
  createLogger,
  LogLevel,
  PinoNestLogger,
  stopTracing,
  withLogContext,
} from '@lib/observability';
import helmet from 'helmet';
import { DestinationStream } from 'pino';
import { randomUUID } from 'node:crypto';
import { createServer, Server, ServerOptions } from 'node:http';
import { NextFunction, Request, RequestHandler, Response } from 'express';
import { BaseConfig } from './base.config';
import { DatabaseUnavailableFilter, DomainErrorFilter } from './http-errors';
import { ConfigError, loadConfig } from './load-config';
import { MetricsServer } from './metrics/metrics-server';
import { jsonBody } from './request-input/json-body';
import { observeRequests } from './http-observation';

/** What differs between an app's HTTP edge and the console's: the headers and the body parser. */
export interface HttpEdge {
  /** helmet's options: the apps answer JSON, the console serves pages. */
  securityHeaders: Parameters<typeof helmet>[0];
  /** The only body parser. */
  bodyParser: RequestHandler;
}

/**
 * A Nest app on the hardened HTTP server, with JSON logs (on stdout, or `logDestination`: the test
 * harness keeps them), request correlation ids, HTTP metrics and an access log line per request,
 * security headers and one body parser; not initialised yet (filters are added first). Shared by
 * the apps (createPlatformApp) and the console.
 */
export async function createHttpApp(
  module: DynamicModule,
  service: string,
  config: BaseConfig,
  edge: HttpEdge,
  logDestination?: DestinationStream,
): Promise<NestExpressApplication> {
  const logger = createLogger(service, config.LOG_LEVEL as LogLevel, logDestination);
  const app = await NestFactory.create<NestExpressApplication>(
    module,
    new HardenedAdapter(config),
    {
      // edge.bodyParser is the only parser.
      bodyParser: false,
      bufferLogs: true,
      // A failed boot is thrown to the caller (runApp reports it in one line) instead of exiting here.
      abortOnError: false,
      logger: new PinoNestLogger(logger),
    },
  );
  app.disable('x-powered-by');
  if (config.HTTP_TRUST_PROXY_HOPS > 0) app.set('trust proxy', config.HTTP_TRUST_PROXY_HOPS);
  app.use(helmet(edge.securityHeaders));
  app.use(correlate);
  app.use(observeRequests(logger));
  app.use(edge.bodyParser);
  return app;
}

/**
 * HTTP and JetStream on one Nest app: the HTTP edge (JSON only, a policy for JSON answers), JSON
 * errors, and /metrics on METRICS_PORT when set. Shared by every app's main.ts and the test
 * harness, whose apps log to `logDestination`.
 */
export async function createPlatformApp(
  module: DynamicModule,
  service: string,
  config: BaseConfig,
  logDestination?: DestinationStream,
): Promise<NestExpressApplication> {
  const app = await createHttpApp(
    module,
    service,
    config,
    { securityHeaders: API_SECURITY_HEADERS, bodyParser: jsonBody() },
    logDestination,
  );
  // Before init: HTTP routes take their filters when they are registered.
  // Nest asks the last registered first: a DomainError is answered by its filter, the rest here.
  app.useGlobalFilters(
    new DatabaseUnavailableFilter(app.getHttpAdapter()),
    new DomainErrorFilter(),
  );
  // Database, NATS and the outbox relay are up before the first message is consumed.
  await app.init();
  await connectJetStream(app);
  await serveMetricsPort(app, config);
  return app;
}

/** /metrics on a port of its own when METRICS_PORT is set (the app needs MetricsServer). */
export async function serveMetricsPort(
  app: NestExpressApplication,
  config: BaseConfig,
): Promise<void> {
  if (config.METRICS_PORT !== undefined) {
    await app.get(MetricsServer).listen(config.METRICS_PORT, config.HTTP_HOST);
  }
}

/** helmet's defaults, with a policy for JSON answers: nothing in them may load or frame anything. */
const API_SECURITY_HEADERS: HttpEdge['securityHeaders'] = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
};

/**
 * Express on a Node server built with the configured timeouts: Node checks the headers and
 * request timeouts every `connectionsCheckingInterval`, which is fixed when the server is made.
 */
class HardenedAdapter extends ExpressAdapter {
  constructor(private readonly config: BaseConfig) {
    super();
  }

  override initHttpServer(): void {
    const options: ServerOptions = {
      headersTimeout: this.config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: this.config.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: this.config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    };
    const server: Server = createServer(options, this.getInstance());
    server.maxConnections = this.config.HTTP_MAX_CONNECTIONS;
    this.httpServer = server;
  }
}

/** `main.js --setup-only`: migrate the app's schema and apply the streams, then exit (deploy jobs). */
export const SETUP_ONLY = '--setup-only';

/** For an app's main.ts: a bad variable stops the process with one line naming it. */
export async function runApp<C extends BaseConfig>(
  service: string,
  schema: new () => C,
  createModule: (config: C) => DynamicModule,
  createApp: (
    module: DynamicModule,
    service: string,
    config: C,
  ) => Promise<NestExpressApplication> = createPlatformApp,
): Promise<void> {
  let config: C;
  try {
    config = loadConfig(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
  let app: NestExpressApplication;
  try {
    if (process.argv.includes(SETUP_ONLY)) {
      // Booting the modules migrates the schema and applies the streams; nothing is served.
      const context = await NestFactory.createApplicationContext(createModule(config), {
        logger: platformLogger(service, config),
        abortOnError: false,
      });
      await context.close();
      process.exit(0);
    }
    app = await createApp(createModule(config), service, config);
    await app.listen(config.PORT, config.HTTP_HOST);
  } catch (error) {
    // The log has the details; the operator gets the reason in one line (e.g. a refused role).
    process.stderr.write(`${service}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  // Graceful stop: consumers finish their in-flight messages, the relay its batch, then NATS drains.
  // Once: Ctrl-C under a supervisor (npm run dev) delivers SIGINT and then SIGTERM.
  let closing: Promise<void> | undefined;
  const shutdown = (): void => {
    closing ??= app.close().then(
      // The spans of the last requests and messages are still queued for the collector.
      () => stopTracing().then(() => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`${service}: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, shutdown);
}

function platformLogger(service: string, config: BaseConfig): PinoNestLogger {
  return new PinoNestLogger(createLogger(service, config.LOG_LEVEL as LogLevel));
}

/** A caller's id header is taken when it is short and printable; otherwise a new one is made. */
const ID_HEADER = /^[\x21-\x7e]{1,100}$/;

/**
 * Every request carries a correlation id (the caller's `X-Correlation-Id` or a new one) and a
 * request id (`X-Request-Id`, likewise), both returned and in every log line and audit record.
 */
function correlate(req: Request, res: Response, next: NextFunction): void {
  const idFrom = (name: string) => {
    const header = req.header(name);
    return header && ID_HEADER.test(header) ? header : randomUUID();
  };
  const correlationId = idFrom('x-correlation-id');
  const requestId = idFrom('x-request-id');
  res.setHeader('X-Correlation-Id', correlationId);
  res.setHeader('X-Request-Id', requestId);
  withLogContext({ correlationId, requestId }, next);
}
