import { DynamicModule } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BaseConfig, createPlatformApp, loadConfig } from '@lib/platform';
import { TEST_DATABASE_URL } from './database';
import { TEST_LOG_LEVEL, testLogDestination } from './test-logs';

/**
 * The config an app gets in tests: the test database, a NATS server and user (`nats.env(user)`),
 * fast retries, errors only in the logs.
 */
export function testConfig<C extends BaseConfig>(
  schema: new () => C,
  natsEnv: Record<string, string>,
  overrides: Record<string, string> = {},
): C {
  return loadConfig(schema, {
    DATABASE_URL: TEST_DATABASE_URL,
    ...natsEnv,
    NATS_RETRY_BASE_MS: '100',
    OUTBOX_POLL_MS: '200',
    OUTBOX_RELAY_AFTER_MS: '1000',
    LOG_LEVEL: TEST_LOG_LEVEL,
    ...overrides,
  });
}

/**
 * Boots an app exactly as main.ts does (HTTP + JetStream consumers + relay), without listening on a
 * port; it logs to the running test's record (test-logs.ts), shown only if the test fails.
 */
export function startPlatformApp(
  module: DynamicModule,
  service: string,
  config: BaseConfig,
): Promise<NestFastifyApplication> {
  return createPlatformApp(module, service, config, testLogDestination());
}
