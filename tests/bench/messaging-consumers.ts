import 'reflect-metadata';
import { Controller, DynamicModule, Injectable, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { AckPolicy, jetstream, jetstreamManager, JetStreamClient } from '@nats-io/jetstream';
import { NatsConnection } from '@nats-io/transport-node';
import { createEvent, EventEnvelope, InventoryLowStockV1 } from '@lib/contracts';
import { Inbox, JetStreamContext } from '@lib/messaging';
import { BaseConfig, PlatformModule } from '@lib/platform';
import { startPlatformApp, testConfig } from '../harness/platform-app';
import { cpuMs } from './cpu-meter';
import { perSecond } from './stats';

/**
 * The consume paths bench:messaging and bench:peers measure, on the INVENTORY stream: raw nats.js
 * consume-and-ack, and the project's transport into a no-op handler or through the Postgres inbox.
 * Each run reads the same events from the start with a new durable.
 */
export const SUBJECT = InventoryLowStockV1.subject;
export const SCHEMA = 'bench_messaging';
/** NATS_CONCURRENCY of the transport runs unless told otherwise. */
export const TRANSPORT_CONCURRENCY = 64;

/** A consume path's events/s and each of `pids`' CPU ms an event, from its first event to its last. */
export interface ConsumeRun {
  rate: number;
  cpuMsPerEvent: number[];
}

@Injectable()
export class Counter {
  count = 0;
  private first = 0;
  private last = 0;
  /** Processes whose CPU is read at the first event and at the last: the path's, between them. */
  pids: number[] = [];
  private cpuAtFirst: number[] = [];
  private cpuAtLast: number[] = [];
  private done?: () => void;
  private target = 0;

  hit(): void {
    if (this.count === 0) {
      this.first = performance.now();
      this.cpuAtFirst = this.cpuMs();
    }
    this.count++;
    if (this.count === this.target) {
      this.last = performance.now();
      this.cpuAtLast = this.cpuMs();
      this.done?.();
    }
  }

  expect(target: number): Promise<void> {
    this.target = target;
    return new Promise((resolve) => (this.done = resolve));
  }

  run(): ConsumeRun {
    const events = this.count - 1;
    return {
      rate: perSecond(events, this.last - this.first),
      cpuMsPerEvent: this.cpuAtLast.map((ms, i) => (ms - this.cpuAtFirst[i]!) / events),
    };
  }

  private cpuMs(): number[] {
    return this.pids.map((pid) => cpuMs(pid) ?? NaN);
  }
}

@Controller()
export class NoopHandler {
  constructor(private readonly counter: Counter) {}
  @EventPattern(SUBJECT)
  handle(): void {
    this.counter.hit();
  }
}

@Controller()
export class InboxHandler {
  constructor(
    private readonly counter: Counter,
    private readonly inbox: Inbox,
  ) {}
  @EventPattern(SUBJECT)
  async handle(@Payload() event: EventEnvelope, @Ctx() context: JetStreamContext): Promise<void> {
    await this.inbox.handleOnce(context, event, () => Promise.resolve());
    this.counter.hit();
  }
}

export function benchModule(
  service: string,
  handler: new (...args: never[]) => unknown,
  config: BaseConfig,
): DynamicModule {
  @Module({})
  class BenchModule {}
  return {
    module: BenchModule,
    imports: [PlatformModule.forRoot({ service, schema: SCHEMA, config })],
    controllers: [handler],
    providers: [Counter],
  };
}

/** Publishes `count` events (326 bytes each); answers the publish rate. */
export async function publishAll(js: JetStreamClient, count: number): Promise<number> {
  const started = performance.now();
  const window = 500;
  for (let i = 0; i < count; i += window) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + window); j++) {
      const event = createEvent(InventoryLowStockV1, {
        sku: `SKU-${j}`,
        available: 1,
        threshold: 2,
      });
      batch.push(js.publish(SUBJECT, JSON.stringify(event), { msgID: event.eventId }));
    }
    await Promise.all(batch);
  }
  return perSecond(count, performance.now() - started);
}

export async function rawConsume(
  nc: NatsConnection,
  durable: string,
  count: number,
  pids: number[] = [],
): Promise<ConsumeRun> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add('INVENTORY', {
    durable_name: durable,
    filter_subject: SUBJECT,
    ack_policy: AckPolicy.Explicit,
  });
  const consumer = await jetstream(nc).consumers.get('INVENTORY', durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const counter = new Counter();
  counter.pids = pids;
  void counter.expect(count);
  for await (const message of messages) {
    JSON.parse(message.string());
    message.ack();
    counter.hit();
    if (counter.count === count) break;
  }
  await messages.close();
  return counter.run();
}

export async function transportConsume(
  natsEnv: Record<string, string>,
  service: string,
  handler: new (...args: never[]) => unknown,
  count: number,
  { concurrency = TRANSPORT_CONCURRENCY, pids = [] as number[] } = {},
): Promise<ConsumeRun> {
  const config = testConfig(BaseConfig, natsEnv, {
    NATS_CONCURRENCY: String(concurrency),
    DATABASE_POOL_SIZE: '20',
  });
  const module = benchModule(service, handler, config);
  const app = await startPlatformApp(module, service, config);
  const counter = app.get(Counter);
  counter.pids = pids;
  await counter.expect(count);
  await app.close();
  return counter.run();
}
