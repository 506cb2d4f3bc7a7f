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
import { randomUUID } from 'node:crypto';
import { createServer, Server, ServerOptions } from 'node:http';
import { NextFunction, Request, Response } from 'express';
import { BaseConfig } from './base.config';
import { DatabaseUnavailableFilter, DomainErrorFilter } from './http-errors';
import { ConfigError, loadConfig } from './load-config';
import { MetricsServer } from './metrics/metrics-server';
import { jsonBody } from './request-input/json-body';
import { observeRequests } from './http-observation';

/**
 * HTTP and JetStream on one Nest app, with JSON logs, request correlation ids, HTTP metrics and an
 * access log line per request, the HTTP hardening
 * (security headers, timeouts, a connection cap, the JSON-only body parser) and /metrics on
 * METRICS_PORT when set. Shared by every app's main.ts and the test harness.
 */
export async function createPlatformApp(
  module: DynamicModule,
  service: string,
  config: BaseConfig,
): Promise<NestExpressApplication> {
  const logger = createLogger(service, config.LOG_LEVEL as LogLevel);
  const app = await NestFactory.create<NestExpressApplication>(
    module,
    new HardenedAdapter(config),
    {
      // jsonBody() is the only parser: no urlencoded bodies.
      bodyParser: false,
      bufferLogs: true,
      // A failed boot is thrown to the caller (runApp reports it in one line) instead of exiting here.
      abortOnError: false,
      logger: new PinoNestLogger(logger),
    },
  );
  app.disable('x-powered-by');
  if (config.HTTP_TRUST_PROXY_HOPS > 0) app.set('trust proxy', config.HTTP_TRUST_PROXY_HOPS);
  app.use(helmet(API_SECURITY_HEADERS));
  app.use(correlate);
  app.use(observeRequests(logger));
  app.use(jsonBody());
  // Before init: HTTP routes take their filters when they are registered.
  // Nest asks the last registered first: a DomainError is answered by its filter, the rest here.
  app.useGlobalFilters(
    new DatabaseUnavailableFilter(app.getHttpAdapter()),
    new DomainErrorFilter(),
  );
  // Database, NATS and the outbox relay are up before the first message is consumed.
  await app.init();
  await connectJetStream(app);
  if (config.METRICS_PORT !== undefined) {
    await app.get(MetricsServer).listen(config.METRICS_PORT, config.HTTP_HOST);
  }
  return app;
}

/** helmet's defaults, with a policy for JSON answers: nothing in them may load or frame anything. */
const API_SECURITY_HEADERS: Parameters<typeof helmet>[0] = {
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
    app = await createPlatformApp(createModule(config), service, config);
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
