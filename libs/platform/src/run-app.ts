import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { connectJetStream } from '@lib/messaging';
import {
  createLogger,
  LogLevel,
  PinoNestLogger,
  setHttpRoute,
  stopTracing,
  withLogContext,
} from '@lib/observability';
import helmet from 'helmet';
import { DestinationStream, Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import {
  createServer,
  IncomingHttpHeaders,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { BaseConfig } from './base.config';
import { DatabaseUnavailableFilter, DomainErrorFilter } from './http-errors';
import { ConfigError, loadConfig } from './load-config';
import { MetricsServer } from './metrics/metrics-server';
import { acceptJsonBodies } from './request-input/json-body';
import { routeOf, UNMATCHED_ROUTE, watchRequest } from './http-observation';

/** helmet's options: the apps answer JSON, the console serves pages. */
export type SecurityHeaders = Parameters<typeof helmet>[0];

/**
 * HTTP and JetStream on one Nest app, on Fastify (its per-request cost is about half Express's:
 * docs/performance.md): the hardened server, JSON logs (on stdout, or `logDestination`: the test
 * harness keeps them), request correlation ids, HTTP metrics and an access log line per request,
 * security headers, JSON bodies only, JSON errors, and /metrics on METRICS_PORT when set. Shared
 * by every app's main.ts and the test harness.
 */
export async function createPlatformApp(
  module: DynamicModule,
  service: string,
  config: BaseConfig,
  logDestination?: DestinationStream,
): Promise<NestFastifyApplication> {
  const logger = createLogger(service, config.LOG_LEVEL as LogLevel, logDestination);
  const app = await NestFactory.create<NestFastifyApplication>(
    module,
    new FastifyAdapter({
      serverFactory: (handler: Parameters<typeof createHardenedServer>[1]) =>
        createHardenedServer(config, handler),
      trustProxy: config.HTTP_TRUST_PROXY_HOPS > 0 ? config.HTTP_TRUST_PROXY_HOPS : false,
      // No Express-style middleware: the edge below is Fastify hooks.
      skipMiddie: true,
      // As Express routes: `/orders/` is `/orders`, and a long id is refused by its pipe, not 404.
      routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    }),
    {
      // acceptJsonBodies is the only parser.
      bodyParser: false,
      bufferLogs: true,
      // A failed boot is thrown to the caller (runApp reports it in one line) instead of exiting here.
      abortOnError: false,
      logger: new PinoNestLogger(logger),
    },
  );
  const fastify = app.getHttpAdapter().getInstance();
  serveRequests(fastify, logger);
  acceptJsonBodies(fastify);
  // Before init: HTTP routes take their filters when they are registered.
  // Nest asks the last registered first: a DomainError is answered by its filter, the rest here.
  app.useGlobalFilters(
    new DatabaseUnavailableFilter(app.getHttpAdapter()),
    new DomainErrorFilter(),
  );
  // Database, NATS and the outbox relay are up before the first message is consumed.
  await app.init();
  // Routes are fixed; the server answers (tests call it without listening).
  await fastify.ready();
  await connectJetStream(app);
  await serveMetricsPort(app, config);
  return app;
}

/**
 * Every request, as it arrives: its ids (`correlate`) in the log context of everything that
 * follows, its metrics and access log line (`watchRequest`), its route on the trace's server span,
 * and the security headers.
 */
function serveRequests(fastify: FastifyInstance, logger: Logger): void {
  const securityHeaders = helmet(API_SECURITY_HEADERS);
  fastify.addHook('onRequest', (request, reply, done) => {
    const ids = correlate(request.headers, reply.raw);
    watchRequest(logger, request, reply.raw, ids.requestId);
    const route = routeOf(request);
    if (route !== UNMATCHED_ROUTE) setHttpRoute(route);
    securityHeaders(request.raw, reply.raw, (error?: unknown) => {
      withLogContext(ids, () => done(error as Error | undefined));
    });
  });
}

/** /metrics on a port of its own when METRICS_PORT is set (the app needs MetricsServer). */
export async function serveMetricsPort(app: INestApplication, config: BaseConfig): Promise<void> {
  if (config.METRICS_PORT !== undefined) {
    await app.get(MetricsServer).listen(config.METRICS_PORT, config.HTTP_HOST);
  }
}

/** helmet's defaults, with a policy for JSON answers: nothing in them may load or frame anything. */
const API_SECURITY_HEADERS: SecurityHeaders = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
};

/**
 * A Node server with the configured timeouts and connection limit: Node checks the headers and
 * request timeouts every `connectionsCheckingInterval`, which is fixed when the server is made.
 * The apps' Fastify and the console's Express both run on one.
 */
export function createHardenedServer(
  config: BaseConfig,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Server {
  const server = createServer(
    {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    },
    handler,
  );
  server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  return server;
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
  ) => Promise<INestApplication> = createPlatformApp,
): Promise<void> {
  let config: C;
  try {
    config = loadConfig(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
  let app: INestApplication;
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
export function correlate(
  headers: IncomingHttpHeaders,
  response: ServerResponse,
): { correlationId: string; requestId: string } {
  const idFrom = (name: string) => {
    const header = headers[name];
    return typeof header === 'string' && ID_HEADER.test(header) ? header : randomUUID();
  };
  const correlationId = idFrom('x-correlation-id');
  const requestId = idFrom('x-request-id');
  response.setHeader('X-Correlation-Id', correlationId);
  response.setHeader('X-Request-Id', requestId);
  return { correlationId, requestId };
}
