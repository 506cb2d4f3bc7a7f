import { Controller, Get, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { Response } from 'express';
import { Public } from './auth.decorators';

/** /metrics without a token: Prometheus scrapes it; METRICS_PORT keeps it off the public port. */
@Controller()
@Public('scraped by Prometheus; no per-entity or customer data')
export class MetricsController extends PrometheusController {
  @Get()
  override index(@Res({ passthrough: true }) response: Response): Promise<string> {
    return super.index(response);
  }
}
