import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public, SkipRateLimit } from '@lib/platform';
import { Backbone } from '../backbone/backbone';

/**
 * Probes. Ready means NATS answers: the pages that call the apps show it when one of them does
 * not, and a dead-letter action whose audit trail cannot be written changes nothing.
 */
@Controller('health')
@Public('probes of the orchestrator; they reveal up or down, nothing else')
@SkipRateLimit()
export class HealthController {
  constructor(private readonly backbone: Backbone) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) response: Response) {
    const up = await this.backbone.ready();
    if (!up) response.status(503);
    // The apps' (terminus) shape, so one probe config reads both.
    const nats = { nats: { status: up ? 'up' : 'down' } };
    return {
      status: up ? 'ok' : 'error',
      info: up ? nats : {},
      error: up ? {} : nats,
      details: nats,
    };
  }
}
