import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { NatsHealthIndicator } from '@lib/messaging';
import { Public } from './auth/auth.decorators';
import { SkipRateLimit } from './rate-limits/rate-limit.guard';

@Controller('health')
@Public('probes of the orchestrator; they reveal up or down, nothing else')
@SkipRateLimit()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly nats: NatsHealthIndicator,
  ) {}

  /** The process answers: restart it only if this fails. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Database and NATS/JetStream reachable; 503 otherwise, so traffic goes elsewhere. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 1000 }),
      () => this.nats.check('nats'),
    ]);
  }
}
