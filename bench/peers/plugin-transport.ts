import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern } from '@nestjs/microservices';
import {
  NatsJetStreamContext,
  NatsJetStreamServer,
} from '@nestjs-plugins/nestjs-nats-jetstream-transport';
import { ConsumeRun, Counter, SUBJECT } from '../../tests/bench/messaging-consumers';

@Controller()
class PluginNoopHandler {
  constructor(private readonly counter: Counter) {}

  // Acked after the handler's work, as the project's transport does (the plugin's manualAck).
  @EventPattern(SUBJECT)
  handle(@Ctx() context: NatsJetStreamContext): void {
    this.counter.hit();
    context.message.ack();
  }
}

@Module({ controllers: [PluginNoopHandler], providers: [Counter] })
class PluginBenchModule {}

/**
 * `@nestjs-plugins/nestjs-nats-jetstream-transport` into a no-op handler: a Nest microservice whose
 * push consumer (a new durable, explicit ack) reads the INVENTORY stream's `count` events from the
 * start. Answers events/s and `pids`' CPU an event, from the first event handled to the last.
 */
export async function pluginConsume(
  natsEnv: Record<string, string>,
  durable: string,
  count: number,
  pids: number[],
): Promise<ConsumeRun> {
  const app = await NestFactory.createMicroservice(PluginBenchModule, {
    strategy: new NatsJetStreamServer({
      connectionOptions: {
        name: durable,
        servers: natsEnv.NATS_URL,
        user: natsEnv.NATS_USER,
        pass: natsEnv.NATS_PASSWORD,
      },
      consumerOptions: {
        durable,
        // The operator's replies subjects (_INBOX.>) are the ones it may subscribe to.
        deliverTo: '_INBOX',
        deliverPolicy: 'All',
        ackPolicy: 'Explicit',
        manualAck: true,
        filterSubject: SUBJECT,
      },
    }),
    logger: false,
  });
  const counter = app.get(Counter);
  counter.pids = pids;
  const done = counter.expect(count);
  await app.listen();
  await done;
  await app.close();
  return counter.run();
}
