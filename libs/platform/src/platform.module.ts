import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { MESSAGING_ENTITIES, MESSAGING_MIGRATIONS, MessagingModule } from '@lib/messaging';
import { AppDataSourceOptions, PersistenceModule } from '@lib/persistence';
import { BaseConfig } from './base.config';
import { HealthController } from './health.controller';

/** An app's own tables: its schema and the entities and migrations in it. */
export interface AppPersistence {
  schema: string;
  entities: AppDataSourceOptions['entities'];
  migrations: AppDataSourceOptions['migrations'];
}

export interface PlatformOptions extends Partial<AppPersistence> {
  service: string;
  config: BaseConfig;
  schema: string;
  /** False for a process that only serves HTTP: no consumers, no outbox relay (MessagingOptions). */
  worker?: boolean;
}

/** The data source options of an app: its own tables plus the outbox and inbox. */
export function appDataSourceOptions(
  url: string,
  persistence: Partial<AppPersistence> & { schema: string },
  poolSize?: number,
): AppDataSourceOptions {
  return {
    url,
    schema: persistence.schema,
    entities: [...MESSAGING_ENTITIES, ...(persistence.entities ?? [])],
    migrations: [...MESSAGING_MIGRATIONS, ...(persistence.migrations ?? [])],
    poolSize,
  };
}

/**
 * Everything an app needs besides its features: its Postgres schema (migrated at boot), NATS with
 * the JetStream transport, outbox and inbox, /health and /metrics.
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const { config } = options;
    return {
      module: PlatformModule,
      imports: [
        PrometheusModule.register({
          path: '/metrics',
          // Several apps may share one process in e2e suites: default metrics register once.
          defaultMetrics: { enabled: !register.getSingleMetric('process_cpu_user_seconds_total') },
          defaultLabels: { service: options.service },
        }),
        TerminusModule,
        PersistenceModule.forRoot(
          appDataSourceOptions(config.DATABASE_URL, options, config.DATABASE_POOL_SIZE),
        ),
        MessagingModule.forRoot({
          service: options.service,
          natsUrl: config.NATS_URL,
          streamReplicas: config.NATS_STREAM_REPLICAS,
          maxDeliver: config.NATS_MAX_DELIVER,
          ackWaitMs: config.NATS_ACK_WAIT_MS,
          retryBaseMs: config.NATS_RETRY_BASE_MS,
          concurrency: config.NATS_CONCURRENCY,
          outboxPollMs: config.OUTBOX_POLL_MS,
          batchWindowMs: config.BATCH_WINDOW_MS,
          worker: options.worker ?? true,
        }),
      ],
      controllers: [HealthController],
    };
  }
}
