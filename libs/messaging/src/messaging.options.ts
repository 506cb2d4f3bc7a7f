import { NatsConnectionSettings } from './nats-connection';

export interface MessagingOptions {
  /** The app's name; it prefixes every durable consumer the app owns. */
  service: string;
  natsUrl: string;
  /** The app's own NATS user and TLS files (see `NatsConnectionSettings`); none: anonymous. */
  natsIdentity?: Omit<NatsConnectionSettings, 'url'>;
  streamReplicas: number;
  /** Deliveries before a failing message is dead-lettered. */
  maxDeliver: number;
  ackWaitMs: number;
  /** First retry delay; doubles on every delivery up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Messages the app handles at once, over all its consumers. */
  concurrency: number;
  /** How often the relay looks for rows their writer did not publish. */
  outboxPollMs: number;
  /**
   * How old a pending row must be before the relay publishes it: the process that committed it
   * publishes it at once, and the relay takes only what that failed to publish.
   */
  outboxRelayAfterMs: number;
  outboxBatchSize: number;
  /**
   * How long consumers' batches (Batcher) wait after their first item for others to join: fewer
   * transactions under moderate load, for at most this much latency per hop. 0 starts at once.
   */
  batchWindowMs: number;
  /**
   * Whether this process consumes events and relays the outbox. False in a process that only
   * serves HTTP: it publishes what it commits, and a process of the same app that is a worker
   * relays whatever it could not.
   */
  worker: boolean;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

export const MESSAGING_DEFAULTS: Omit<MessagingOptions, 'service'> = {
  natsUrl: 'nats://127.0.0.1:4222',
  streamReplicas: 1,
  maxDeliver: 5,
  ackWaitMs: 30_000,
  retryBaseMs: 500,
  retryMaxMs: 60_000,
  concurrency: 8,
  outboxPollMs: 1000,
  outboxRelayAfterMs: 5000,
  outboxBatchSize: 200,
  batchWindowMs: 30,
  worker: true,
};
