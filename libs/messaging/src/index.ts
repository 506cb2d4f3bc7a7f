export * from './batcher';
export * from './connect-jetstream';
export * from './consumer-metrics';
export * from './dead-letters';
export * from './dependency-gate';
export * from './errors';
export * from './inbox';
export * from './inbox.entity';
export * from './jetstream-publisher';
export * from './jetstream.context';
export * from './jetstream.transport';
export * from './messaging-tables.migration';
export * from './messaging.metrics';
export * from './messaging.module';
export * from './messaging.options';
export * from './nats-connection';
export * from './nats.client';
export * from './nats.health';
export * from './outbox';
export * from './outbox.entity';
export * from './outbox-trace-context.migration';
export * from './outbox.publisher';
export * from './outbox.relay';
export * from './retry-delay';
export * from './stream-setup';

import { InboxRecord } from './inbox.entity';
import { MessagingTables1763800000000 } from './messaging-tables.migration';
import { OutboxWithoutNotify1765100000000 } from './outbox-without-notify.migration';
import { OutboxRecord } from './outbox.entity';
import { OutboxTraceContext1765200000000 } from './outbox-trace-context.migration';

/** Add these to every app's data source. */
export const MESSAGING_ENTITIES = [OutboxRecord, InboxRecord];
export const MESSAGING_MIGRATIONS = [
  MessagingTables1763800000000,
  OutboxWithoutNotify1765100000000,
  OutboxTraceContext1765200000000,
];
