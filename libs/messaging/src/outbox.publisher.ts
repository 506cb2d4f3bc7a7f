import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { queryPrepared } from '@lib/persistence';
import { errorMessage } from './errors';
import { messagingMetrics } from './messaging.metrics';
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
}

/**
 * Rows published by the process that wrote them are marked in one statement per this interval:
 * marking is bookkeeping, off the path of the saga.
 */
const MARK_EVERY_MS = 50;

/**
 * Publishes outbox rows to JetStream with `Nats-Msg-Id = eventId`, so a row published twice is
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

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
  ) {
    this.table = dataSource.getMetadata(OutboxRecord).tablePath;
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
    await this.nats.jetStreamPublisher.publish(
      message.subject,
      message.body,
      message.eventId,
      headers,
    );
    messagingMetrics.published.inc({ subject: message.subject });
    messagingMetrics.outboxLagSeconds.observe((Date.now() - message.writtenAt) / 1000);
  }

  private sentOne(eventId: string): void {
    if (this.sent.push(eventId) === 1) {
      this.marking = setTimeout(() => void this.markSent(), MARK_EVERY_MS);
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
