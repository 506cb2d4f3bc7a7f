import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { register } from 'prom-client';
import { Public } from '../auth/auth.decorators';
import { SkipRateLimit } from '../rate-limits/rate-limit.guard';

/** /metrics on the app port, when METRICS_PORT does not give it a port of its own. */
@Controller('metrics')
@Public('scraped by Prometheus; no per-entity or customer data')
@SkipRateLimit()
export class MetricsController {
  @Get()
  metrics(@Res({ passthrough: true }) response: Response): Promise<string> {
    response.type(register.contentType);
    return register.metrics();
  }
}
