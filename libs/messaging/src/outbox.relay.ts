import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { TraceCarrier, tracingOn } from '@lib/observability';
import { afterBatchWindow } from './batcher';
import { errorMessage } from './errors';
import { messagingMetrics } from './messaging.metrics';
import { outboxChannel } from './messaging-tables.migration';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { publishInTrace } from './message-spans';
import { NatsClient } from './nats.client';
import { OutboxRecord } from './outbox.entity';

interface PendingRow {
  id: string;
  event_id: string;
  subject: string;
  body: string;
  correlation_id: string;
  causation_id: string | null;
  created_at: Date;
  /** Selected only when tracing is on. */
  trace_context?: TraceCarrier | null;
}

/** Published rows are kept this long for inspection, then deleted. */
const PUBLISHED_RETENTION = '1 day';
const CLEANUP_EVERY_MS = 10 * 60 * 1000;

/**
 * Publishes committed outbox rows to JetStream in id order with `Nats-Msg-Id = eventId` (and, for a
 * row written in a trace, in a PRODUCER span of that trace whose W3C headers go along), in a
 * transaction that claims them (FOR UPDATE SKIP LOCKED, so any number of relays can run) and marks
 * them sent, committed once JetStream has acked them. If a relay dies between publishing and
 * committing, the next attempt publishes the same ids again and JetStream drops them as
 * duplicates (duplicate window).
 * Woken by LISTEN/NOTIFY at commit; a poll timer covers a lost listener.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly table: string;
  private readonly schema: string;
  private listener?: Client;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private wokenWhileDraining = false;
  private stopped = true;
  private lastCleanup = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    const metadata = dataSource.getMetadata(OutboxRecord);
    this.table = metadata.tablePath;
    this.schema = metadata.schema ?? 'public';
  }

  async onApplicationBootstrap(): Promise<void> {
    this.stopped = false;
    await this.listen();
    this.timer = setInterval(() => this.tick(), this.options.outboxPollMs);
    this.wake();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.draining;
    await this.listener?.end().catch(() => undefined);
  }

  /**
   * Starts draining after the batch window, so that the rows of the commits made meanwhile go in
   * the same claim, or asks the running drain for one more pass.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.wokenWhileDraining = true;
      return;
    }
    this.draining = afterBatchWindow(this.options.batchWindowMs)
      .then(() => this.drain())
      .finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    try {
      let published: number;
      do {
        this.wokenWhileDraining = false;
        published = await this.publishBatch();
      } while (
        !this.stopped &&
        (published === this.options.outboxBatchSize || this.wokenWhileDraining)
      );
    } catch (error) {
      // Rows stay pending; the next poll tries again.
      this.logger.warn({ msg: 'outbox relay failed, will retry', error: errorMessage(error) });
    }
  }

  /** Publishes one batch; returns how many rows it published. */
  async publishBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      // The pending rows in id order are the start of the partial index `outbox_unpublished`: an
      // index scan reads just those, and marks the entries of rows published since the last vacuum
      // dead as it passes them, so later claims skip them. A bitmap scan, which the planner picks
      // when statistics are stale, visits every such row on every claim, and they pile up between
      // vacuums.
      await manager.query('SET LOCAL enable_bitmapscan = off');
      // Claimed and marked sent in one statement (sorted again: RETURNING follows the table's
      // order). The mark commits once every publish is acked; a failed publish rolls it back.
      const traceColumn = tracingOn() ? ', trace_context' : '';
      const rows: PendingRow[] = await manager.query(
        `WITH claimed AS (
           UPDATE ${this.table} SET published_at = now()
            WHERE id IN (SELECT id FROM ${this.table}
                          WHERE published_at IS NULL
                          ORDER BY id
                          LIMIT $1
                            FOR UPDATE SKIP LOCKED)
            RETURNING id, event_id, subject, body, correlation_id, causation_id, created_at${traceColumn})
         SELECT * FROM claimed ORDER BY id`,
        [this.options.outboxBatchSize],
      );
      if (rows.length === 0) return 0;
      // Sent in order on one connection; the acks are awaited together.
      await Promise.all(rows.map((row) => this.publish(row)));
      const publishedAt = Date.now();
      for (const row of rows) {
        messagingMetrics.published.inc({ subject: row.subject });
        messagingMetrics.outboxLagSeconds.observe((publishedAt - row.created_at.getTime()) / 1000);
      }
      return rows.length;
    });
  }

  private async publish(row: PendingRow): Promise<void> {
    const headers = natsHeaders();
    headers.set('Correlation-Id', row.correlation_id);
    if (row.causation_id) headers.set('Causation-Id', row.causation_id);
    const publish = () =>
      this.nats.js.publish(row.subject, row.body, { msgID: row.event_id, headers });
    const { subject, event_id: eventId, trace_context: writtenIn } = row;
    await (writtenIn
      ? publishInTrace({ subject, eventId, headers }, writtenIn, publish)
      : publish());
  }

  private tick(): void {
    this.wake();
    if (!this.listener) void this.listen();
    void this.maintain().catch((error: unknown) =>
      this.logger.warn({ msg: 'outbox maintenance failed', error: errorMessage(error) }),
    );
  }

  private async maintain(): Promise<void> {
    const [{ count }] = await this.dataSource.query<[{ count: number }]>(
      `SELECT count(*)::int AS count FROM ${this.table} WHERE published_at IS NULL`,
    );
    messagingMetrics.outboxPending.set(count);
    if (Date.now() - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = Date.now();
    await this.dataSource.query(
      `DELETE FROM ${this.table} WHERE published_at < now() - interval '${PUBLISHED_RETENTION}'`,
    );
  }

  private async listen(): Promise<void> {
    const options = this.dataSource.options as PostgresConnectionOptions;
    const client = new Client({ connectionString: options.url });
    client.on('notification', () => this.wake());
    client.on('error', (error) => {
      this.logger.warn({
        msg: 'outbox listener lost, polling until it is back',
        error: error.message,
      });
      this.listener = undefined;
      void client.end().catch(() => undefined);
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${outboxChannel(this.schema)}"`);
    } catch (error) {
      this.logger.warn({ msg: 'outbox listener unavailable', error: errorMessage(error) });
      this.listener = undefined;
      await client.end().catch(() => undefined);
    }
  }
}
