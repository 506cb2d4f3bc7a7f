import { counter, gauge, histogram } from '@lib/observability';

/** `held`: the handler failed because a dependency is down; the message waits for it, no delivery spent. */
export const CONSUME_OUTCOMES = ['ack', 'nak', 'term', 'duplicate', 'held'] as const;
export type ConsumeOutcome = (typeof CONSUME_OUTCOMES)[number];

export const messagingMetrics = {
  published: counter({
    name: 'events_published_total',
    help: 'Events published to JetStream by the outbox relay',
    labelNames: ['subject'],
  }),
  consumed: counter({
    name: 'events_consumed_total',
    help: 'Events handled by consumers, by outcome',
    labelNames: ['subject', 'outcome'],
  }),
  handlerSeconds: histogram({
    name: 'event_handler_seconds',
    help: 'Time spent in event handlers',
    labelNames: ['subject'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  outboxPending: gauge({
    name: 'outbox_pending',
    help: 'Outbox rows not yet published',
  }),
  outboxLagSeconds: histogram({
    name: 'outbox_publish_lag_seconds',
    help: 'Time from outbox commit to JetStream acknowledgement',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
  }),
  deadLetters: counter({
    name: 'dlq_messages_total',
    help: 'Messages dead-lettered, by stream and consumer',
    labelNames: ['stream', 'consumer'],
  }),
  dependencyAvailable: gauge({
    name: 'dependency_available',
    help: 'Whether a dependency the consumers need answers: 1 up, 0 known down (what needs it is held)',
    labelNames: ['dependency'],
  }),
  consumersPaused: gauge({
    name: 'consumers_paused',
    help: "This instance's durable consumers holding their messages while a dependency is down",
  }),
  eventsHeld: gauge({
    name: 'events_held',
    help: 'Messages held until a dependency is back: kept from redelivery, not handled, no delivery spent',
  }),
  compensationsPending: gauge({
    name: 'compensations_pending',
    help: 'Compensations still failing after NATS_MAX_DELIVER deliveries: retried until done, never dead-lettered',
    labelNames: ['consumer'],
  }),
  repliesRejected: counter({
    name: 'saga_replies_rejected_total',
    help: "Saga events refused because they do not match the receiver's own record (forged or corrupt), by reason",
    labelNames: ['reason'],
  }),
};
