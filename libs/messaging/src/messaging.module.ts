import { DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DeadLetters } from './dead-letters';
import { DependencyGates } from './dependency-gate';
import { Inbox } from './inbox';
import { JetStreamTransport } from './jetstream.transport';
import { MESSAGING_DEFAULTS, MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { NatsClient } from './nats.client';
import { NatsHealthIndicator } from './nats.health';
import { Outbox } from './outbox';
import { OutboxPublisher } from './outbox.publisher';
import { OutboxRelay } from './outbox.relay';

const EXPORTED = [
  NatsClient,
  JetStreamTransport,
  Outbox,
  OutboxPublisher,
  Inbox,
  DeadLetters,
  DependencyGates,
  NatsHealthIndicator,
];

/** NATS connection, JetStream transport, outbox + relay (in a worker), inbox and DLQ for one app. */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(
    options: Partial<MessagingOptions> & Pick<MessagingOptions, 'service'>,
  ): DynamicModule {
    const settings: MessagingOptions = { ...MESSAGING_DEFAULTS, ...options };
    return {
      module: MessagingModule,
      imports: [TerminusModule],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: settings },
        ...EXPORTED,
        ...(settings.worker ? [OutboxRelay] : []),
      ],
      exports: [MESSAGING_OPTIONS, ...EXPORTED],
    };
  }
}
