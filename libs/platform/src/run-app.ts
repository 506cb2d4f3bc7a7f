import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { connectJetStream } from '@lib/messaging';
import { createLogger, LogLevel, PinoNestLogger, withLogContext } from '@lib/observability';
import { randomUUID } from 'node:crypto';
import { NextFunction, Request, Response } from 'express';
import { BaseConfig } from './base.config';
import { DomainErrorFilter } from './http-errors';
import { ConfigError, loadConfig } from './load-config';

/** Request bodies above this answer 413. */
export const BODY_LIMIT = '64kb';

/**
 * HTTP and JetStream on one Nest app, with JSON logs, request correlation ids and raw bodies (for
 * webhook signatures). Shared by every app's main.ts and the test harness.
 */
export async function createPlatformApp(
  module: DynamicModule,
  service: string,
  config: BaseConfig,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    rawBody: true,
    bufferLogs: true,
    logger: platformLogger(service, config),
  });
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.use(correlate);
  // Before init: HTTP routes take their filters when they are registered.
  app.useGlobalFilters(new DomainErrorFilter());
  // Database, NATS and the outbox relay are up before the first message is consumed.
  await app.init();
  await connectJetStream(app);
  return app;
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
  if (process.argv.includes(SETUP_ONLY)) {
    // Booting the modules migrates the schema and applies the streams; nothing is served.
    const context = await NestFactory.createApplicationContext(createModule(config), {
      logger: platformLogger(service, config),
    });
    await context.close();
    process.exit(0);
  }
  const app = await createPlatformApp(createModule(config), service, config);
  await app.listen(config.PORT, config.HTTP_HOST);
  // Graceful stop: consumers finish their in-flight messages, the relay its batch, then NATS drains.
  // Once: Ctrl-C under a supervisor (npm run dev) delivers SIGINT and then SIGTERM.
  let closing: Promise<void> | undefined;
  const shutdown = (): void => {
    closing ??= app.close().then(
      () => process.exit(0),
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
