// Jest's setup of every spec file (jest.config.js).
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createLogger, LogLevel, PinoNestLogger } from '@lib/observability';
import { TEST_LOG_LEVEL, testLogDestination } from './test-logs';

// Nest's own logger (a `new Logger(context)` outside an app, e.g. in a NATS client a spec makes
// itself) writes to the running test's record too.
Logger.overrideLogger(
  new PinoNestLogger(createLogger('spec', TEST_LOG_LEVEL as LogLevel, testLogDestination())),
);
