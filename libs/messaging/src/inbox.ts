import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope } from '@lib/contracts';
import { InboxRecord } from './inbox.entity';
import { JetStreamContext } from './jetstream.context';

@Injectable()
export class Inbox {
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    this.table = dataSource.getMetadata(InboxRecord).tablePath;
  }

  /**
   * Applies `effect` once per consumer and event: the inbox record and the effect commit together,
   * so a redelivered or replayed event is skipped (and acked) instead of applied again. Two
   * deliveries racing each other serialise on the primary key.
   */
  async handleOnce(
    context: JetStreamContext,
    event: EventEnvelope,
    effect: (manager: EntityManager) => Promise<void>,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO ${this.table} (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [context.consumer, event.eventId],
      );
      if (inserted.length === 0) {
        context.duplicate = true;
        return;
      }
      await effect(manager);
    });
  }
}
