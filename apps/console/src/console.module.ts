import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { collectDefaultMetrics, register } from 'prom-client';
import {
  MetricsController,
  MetricsServer,
  rateLimitGuard,
  TokenVerifier,
  tokenVerifierOptions,
} from '@lib/platform';
import { Backbone } from './backbone/backbone';
import { ConsoleAudit } from './backbone/console-audit';
import { ConsoleConfig } from './config';
import { CONSOLE_CONFIG } from './console-config.token';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { HealthController } from './health/health.controller';
import { AssetsController } from './pages/assets.controller';
import { PlatformApis } from './sagas/platform-apis';
import { SagasController } from './sagas/sagas.controller';
import { ConsoleGuard } from './session/console.guard';
import { LoginController } from './session/login.controller';
import { StreamsController } from './streams/streams.controller';

/**
 * The operators' console: pages over the order app's read model and actions (called with the
 * operator's token), NATS for the saga's events, the streams and the DLQ (its own NATS user), and
 * the audit trail of its DLQ actions (its own Postgres role). No tables of its own.
 */
@Module({})
export class ConsoleModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
    register.setDefaultLabels({ service: 'console' });
    return {
      module: ConsoleModule,
      controllers: [
        LoginController,
        AssetsController,
        HealthController,
        SagasController,
        DeadLettersController,
        StreamsController,
        ...(config.METRICS_PORT === undefined ? [MetricsController] : []),
      ],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        {
          provide: TokenVerifier,
          useFactory: () => new TokenVerifier(tokenVerifierOptions(config)),
        },
        Backbone,
        ConsoleAudit,
        PlatformApis,
        MetricsServer,
        { provide: ThrottlerStorage, useClass: ThrottlerStorageService },
        // Global guards run in this order, as on the apps.
        rateLimitGuard('ip', config),
        { provide: APP_GUARD, useClass: ConsoleGuard },
        rateLimitGuard('principal', config),
      ],
    };
  }
}
