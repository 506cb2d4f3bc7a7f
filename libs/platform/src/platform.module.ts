import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { collectDefaultMetrics, register } from 'prom-client';
import { MESSAGING_ENTITIES, MESSAGING_MIGRATIONS, MessagingModule } from '@lib/messaging';
import { AppDataSourceOptions, PersistenceModule } from '@lib/persistence';
import { AuditRecord } from './audit/audit-record.entity';
import { AuditController } from './audit/audit.controller';
import { AuditLog } from './audit/audit-log';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier, tokenVerifierOptions } from './auth/token-verifier';
import { BaseConfig } from './base.config';
import { EdgeTables1764800000000 } from './edge-tables.migration';
import { HealthCheckLogger } from './health-check.logger';
import { HealthController } from './health.controller';
import { IDEMPOTENCY_KEY_TTL, IdempotentRequests } from './idempotency/idempotent-requests';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsServer } from './metrics/metrics-server';
import { natsSettingsOf } from './nats-settings';
import { PostgresGate } from './postgres.gate';
import { rateLimitGuard } from './rate-limits/rate-limit.guard';

/** An app's own tables: its schema, the role it connects as, and the entities and migrations. */
export interface AppPersistence {
  schema: string;
  /** The app's Postgres role (`order_app`): DML on its schema only, granted by the migrations. */
  role: string;
  /** The tables the operators' CLI reads (saga_operator, docs/security.md); none by default. */
  operatorReads?: readonly string[];
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
    appRole: persistence.role,
    operatorReads: persistence.operatorReads,
    entities: [...MESSAGING_ENTITIES, AuditRecord, ...(persistence.entities ?? [])],
    migrations: [
      ...MESSAGING_MIGRATIONS,
      ...(persistence.migrations ?? []),
      EdgeTables1764800000000,
    ],
    poolSize,
  };
}

/**
 * The owner's URL migrations run with: DATABASE_MIGRATION_URL, or outside production the app's
 * own DATABASE_URL (development's superuser). In production without it, the app only checks that
 * its schema is migrated (the setup job migrates).
 */
export function migrationUrlOf(config: BaseConfig): string | undefined {
  return (
    config.DATABASE_MIGRATION_URL ??
    (config.NODE_ENV === 'production' ? undefined : config.DATABASE_URL)
  );
}

/**
 * Everything an app needs besides its features: its Postgres schema (migrated at boot), NATS with
 * the JetStream transport (its consumers paused while Postgres is unreachable), outbox and inbox,
 * /health and /metrics (on METRICS_PORT when set), rate limits and bearer-token authentication on
 * every other route, the audit trail and Idempotency-Key handling.
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const { config } = options;
    // Several apps may share one process in e2e suites: default metrics register once.
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
    register.setDefaultLabels({ service: options.service });
    return {
      module: PlatformModule,
      imports: [
        TerminusModule.forRoot({ logger: HealthCheckLogger }),
        PersistenceModule.forRoot(
          appDataSourceOptions(config.DATABASE_URL, options, config.DATABASE_POOL_SIZE),
          {
            migrationUrl: migrationUrlOf(config),
            production: config.NODE_ENV === 'production',
          },
        ),
        MessagingModule.forRoot({
          service: options.service,
          natsUrl: config.NATS_URL,
          natsIdentity: natsSettingsOf(config),
          streamReplicas: config.NATS_STREAM_REPLICAS,
          maxDeliver: config.NATS_MAX_DELIVER,
          ackWaitMs: config.NATS_ACK_WAIT_MS,
          retryBaseMs: config.NATS_RETRY_BASE_MS,
          concurrency: config.NATS_CONCURRENCY,
          outboxPollMs: config.OUTBOX_POLL_MS,
          outboxRelayAfterMs: config.OUTBOX_RELAY_AFTER_MS,
          batchWindowMs: config.BATCH_WINDOW_MS,
          worker: options.worker ?? true,
        }),
      ],
      controllers: [
        HealthController,
        AuditController,
        ...(config.METRICS_PORT === undefined ? [MetricsController] : []),
      ],
      providers: [
        {
          provide: TokenVerifier,
          useFactory: () => new TokenVerifier(tokenVerifierOptions(config)),
        },
        { provide: IDEMPOTENCY_KEY_TTL, useValue: config.IDEMPOTENCY_KEY_TTL_MS },
        AuditLog,
        IdempotentRequests,
        MetricsServer,
        PostgresGate,
        { provide: ThrottlerStorage, useClass: ThrottlerStorageService },
        // Global guards run in this order.
        rateLimitGuard('ip', config),
        { provide: APP_GUARD, useClass: AuthGuard },
        rateLimitGuard('principal', config),
      ],
      exports: [AuditLog, IdempotentRequests],
    };
  }
}
