import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { TraceCarrier } from '@lib/observability';
import { queryPrepared } from '@lib/persistence';
import { errorMessage } from './errors';
import { publishInTrace } from './message-spans';
import { messagingMetrics } from './messaging.metrics';
import { MESSAGING_DEFAULTS, MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { NatsClient } from './nats.client';
import { OutboxRecord } from './outbox.entity';

/** An outbox row as JetStream receives it. */
export interface OutboxMessage {
  eventId: string;
  subject: string;
  /** The serialised envelope, published byte for byte. */
  body: string;
  correlationId: string;
  causationId: string | null;
  /** When the row was written (epoch ms): the outbox lag runs from here. */
  writtenAt: number;
  /** The trace the row was written in, when tracing is on: it is published in a span of it. */
  traceContext?: TraceCarrier | null;
}

/**
 * How often the rows this process published are marked sent, in one statement: a fifth of the age
 * at which the relay takes a pending row (OUTBOX_RELAY_AFTER_MS), within 50 ms and 1 s. Marking is
 * bookkeeping, off the path of the saga: a row still unmarked when the relay comes is published
 * again, and JetStream drops the copy. At the default 5 s this is one UPDATE a second per process
 * instead of one per 50 ms, which a saga at a moderate rate paid nearly once per hop.
 */
export function markEveryMs(relayAfterMs: number): number {
  return Math.min(1000, Math.max(50, relayAfterMs / 5));
}

/**
 * Publishes outbox rows to JetStream with `Nats-Msg-Id = eventId` (a row written in a trace in a
 * PRODUCER span of that trace, whose W3C headers go along), so a row published twice is
 * stored once (within the stream's duplicate window). The process that commits events hands them
 * here at once (`publishCommitted`), which saves the relay's wake-up, claim and commit on every
 * hop; the rows it publishes are marked sent shortly after. What it cannot publish (NATS away, a
 * crash before the ack) stays pending, and the relay publishes it.
 */
@Injectable()
export class OutboxPublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxPublisher.name);
  private readonly table: string;
  /** Until the app is up, and again once it stops, committed rows are left to the relay. */
  private open = false;
  private readonly sending = new Set<Promise<void>>();
  private sent: string[] = [];
  private marking?: NodeJS.Timeout;
  private readonly markEveryMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
    @Inject(MESSAGING_OPTIONS)
    { outboxRelayAfterMs }: Pick<MessagingOptions, 'outboxRelayAfterMs'> = MESSAGING_DEFAULTS,
  ) {
    this.table = dataSource.getMetadata(OutboxRecord).tablePath;
    this.markEveryMs = markEveryMs(outboxRelayAfterMs);
  }

  onApplicationBootstrap(): void {
    this.open = true;
  }

  /** Lets the publishes under way finish and marks what they sent, before NATS and Postgres close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.open = false;
    await Promise.all(this.sending);
    clearTimeout(this.marking);
    await this.markSent();
  }

  /** Publishes rows that have just committed, in order; a failure leaves them to the relay. */
  publishCommitted(messages: OutboxMessage[]): void {
    if (!this.open || !this.nats.isConnected) return;
    for (const message of messages) {
      const sending = this.send(message).then(
        () => this.sentOne(message.eventId),
        (error: unknown) =>
          this.logger.warn({
            msg: 'publish failed; the outbox relay will retry',
            eventId: message.eventId,
            error: errorMessage(error),
          }),
      );
      this.sending.add(sending);
      void sending.finally(() => this.sending.delete(sending));
    }
  }

  /** One row to JetStream; resolves once the stream has stored it. */
  async send(message: OutboxMessage): Promise<void> {
    const headers = natsHeaders();
    headers.set('Correlation-Id', message.correlationId);
    if (message.causationId) headers.set('Causation-Id', message.causationId);
    const { subject, eventId, traceContext } = message;
    const publish = () =>
      this.nats.jetStreamPublisher.publish(subject, message.body, eventId, headers);
    await (traceContext
      ? publishInTrace({ subject, eventId, headers }, traceContext, publish)
      : publish());
    messagingMetrics.published.inc({ subject: message.subject });
    messagingMetrics.outboxLagSeconds.observe((Date.now() - message.writtenAt) / 1000);
  }

  private sentOne(eventId: string): void {
    if (this.sent.push(eventId) === 1) {
      this.marking = setTimeout(() => void this.markSent(), this.markEveryMs);
    }
  }

  /** If the mark is lost, the relay publishes the rows again and JetStream drops the copies. */
  private async markSent(): Promise<void> {
    const eventIds = this.sent;
    this.sent = [];
    if (eventIds.length === 0) return;
    try {
      await queryPrepared(
        this.dataSource,
        `UPDATE ${this.table} SET published_at = now()
          WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL`,
        [eventIds],
      );
    } catch (error) {
      this.logger.warn({ msg: 'could not mark published rows', error: errorMessage(error) });
    }
  }
}
