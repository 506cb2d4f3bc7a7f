import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';
import { Public } from '../auth/auth.decorators';
import { SkipRateLimit } from '../rate-limits/rate-limit.guard';

/** /metrics on the app port, when METRICS_PORT does not give it a port of its own. */
@Controller('metrics')
@Public('scraped by Prometheus; no per-entity or customer data')
@SkipRateLimit()
export class MetricsController {
  @Get()
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
