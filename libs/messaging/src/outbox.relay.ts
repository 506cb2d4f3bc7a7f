import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { errorMessage } from './errors';
import { messagingMetrics } from './messaging.metrics';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { OutboxRecord } from './outbox.entity';
import { OutboxPublisher } from './outbox.publisher';

interface PendingRow {
  id: string;
  event_id: string;
  subject: string;
  body: string;
  correlation_id: string;
  causation_id: string | null;
  created_at: Date;
}

/** Published rows are kept this long for inspection, then deleted. */
const PUBLISHED_RETENTION = '1 day';
const CLEANUP_EVERY_MS = 10 * 60 * 1000;

/**
 * Publishes the outbox rows that the process that wrote them did not (it crashed, or NATS was
 * away): committed rows older than `outboxRelayAfterMs`, in id order with `Nats-Msg-Id = eventId`,
 * in a transaction that claims them (FOR UPDATE SKIP LOCKED, so any number of relays can run) and
 * marks them sent, committed once JetStream has acked them. A row published twice (by its writer
 * and by a relay, or by a relay that died before committing) is stored once: JetStream drops the
 * copy within its duplicate window. Runs every `outboxPollMs`.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly table: string;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private stopped = true;
  private lastCleanup = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: OutboxPublisher,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    this.table = dataSource.getMetadata(OutboxRecord).tablePath;
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.tick(), this.options.outboxPollMs);
    this.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.draining;
  }

  private tick(): void {
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    void this.maintain().catch((error: unknown) =>
      this.logger.warn({ msg: 'outbox maintenance failed', error: errorMessage(error) }),
    );
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.publishBatch()) === this.options.outboxBatchSize);
    } catch (error) {
      // Rows stay pending; the next poll tries again.
      this.logger.warn({ msg: 'outbox relay failed, will retry', error: errorMessage(error) });
    }
  }

  /** Publishes one batch of the rows left behind; returns how many rows it published. */
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
      const rows: PendingRow[] = await manager.query(
        `WITH claimed AS (
           UPDATE ${this.table} SET published_at = now()
            WHERE id IN (SELECT id FROM ${this.table}
                          WHERE published_at IS NULL
                            AND created_at < clock_timestamp() - $2 * interval '1 millisecond'
                          ORDER BY id
                          LIMIT $1
                            FOR UPDATE SKIP LOCKED)
            RETURNING id, event_id, subject, body, correlation_id, causation_id, created_at)
         SELECT * FROM claimed ORDER BY id`,
        [this.options.outboxBatchSize, this.options.outboxRelayAfterMs],
      );
      if (rows.length === 0) return 0;
      // Sent in order on one connection; the acks are awaited together.
      await Promise.all(
        rows.map((row) =>
          this.publisher.send({
            eventId: row.event_id,
            subject: row.subject,
            body: row.body,
            correlationId: row.correlation_id,
            causationId: row.causation_id,
            writtenAt: row.created_at.getTime(),
          }),
        ),
      );
      return rows.length;
    });
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
}
