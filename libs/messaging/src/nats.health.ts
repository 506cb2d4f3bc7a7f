import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { errorMessage } from './errors';
import { NatsClient } from './nats.client';

const JETSTREAM_TIMEOUT_MS = 1000;

/** Up when the connection is live and JetStream answers an account-info request. */
@Injectable()
export class NatsHealthIndicator {
  constructor(
    private readonly nats: NatsClient,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    if (!this.nats.isConnected) return indicator.down({ message: 'not connected' });
    try {
      await withTimeout(this.nats.jsm.getAccountInfo(), JETSTREAM_TIMEOUT_MS);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: errorMessage(error) });
    }
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`JetStream did not answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
