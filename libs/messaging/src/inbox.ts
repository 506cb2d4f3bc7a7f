import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope } from '@lib/contracts';
import {
  isUniqueViolation,
  queryPrepared,
  SqlParams,
  unnestWrittenWith,
  WrittenWith,
} from '@lib/persistence';
import { InboxRecord } from './inbox.entity';
import { JetStreamContext } from './jetstream.context';

/** An event as the inbox records it: handled once per consumer. */
export interface InboxEntry {
  consumer: string;
  eventId: string;
}

@Injectable()
export class Inbox {
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    this.table = dataSource.getMetadata(InboxRecord).tablePath;
  }

  /**
   * Applies `effect` once per consumer and event: the inbox record and the effect commit together,
   * so a redelivered or replayed event is skipped (and acked) instead of applied again. Two
   * deliveries racing each other serialise on the primary key. Answers what the effect returned,
   * or undefined for a duplicate.
   */
  async handleOnce<T>(
    context: JetStreamContext,
    event: EventEnvelope,
    effect: (manager: EntityManager) => Promise<T>,
  ): Promise<T | undefined> {
    return this.handleAllOnce([{ context, event }], (manager) => effect(manager));
  }

  /**
   * `handleOnce` for several deliveries in one transaction: `effect` gets the events not handled
   * before (in delivery order), and is not called when there are none.
   */
  async handleAllOnce<E extends EventEnvelope, T>(
    deliveries: { context: JetStreamContext; event: E }[],
    effect: (manager: EntityManager, events: E[]) => Promise<T>,
  ): Promise<T | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const recorded = await this.recordAll(
        manager,
        deliveries.map(({ context, event }) => ({
          consumer: context.consumer,
          eventId: event.eventId,
        })),
      );
      const fresh: E[] = [];
      for (const { context, event } of deliveries) {
        // `delete` also makes a second delivery of one event in the same call a duplicate.
        if (recorded.delete(inboxKey(context.consumer, event.eventId))) fresh.push(event);
        else context.duplicate = true;
      }
      return fresh.length > 0 ? effect(manager, fresh) : undefined;
    });
  }

  /** Records an event that has no effect (e.g. a late reply); false if it was already recorded. */
  async record(manager: EntityManager, entry: InboxEntry): Promise<boolean> {
    return (await this.recordAll(manager, [entry])).size > 0;
  }

  /** Records events in one statement; answers those not recorded before, as `consumer/eventId`. */
  private async recordAll(manager: EntityManager, entries: InboxEntry[]): Promise<Set<string>> {
    const recorded: { entry: string }[] = await queryPrepared(
      manager,
      `INSERT INTO ${this.table} (consumer, event_id)
        SELECT * FROM unnest($1::text[], $2::uuid[]) ON CONFLICT DO NOTHING
        RETURNING consumer || '/' || event_id AS entry`,
      [entries.map((entry) => entry.consumer), entries.map((entry) => entry.eventId)],
    );
    return new Set(recorded.map((row) => row.entry));
  }

  /**
   * The inbox records as SQL, for a caller that writes its effects and the records in one statement
   * (a sub-statement of a data-modifying CTE): each entry is written only when the effect it caused
   * was (see `WrittenWith`). An event already recorded fails the whole statement: see `isDuplicate`.
   */
  insert(entries: InboxEntry[], params: SqlParams, writtenWith: WrittenWith): string {
    const columns = [
      params.array(entries, (entry) => entry.consumer, 'text'),
      params.array(entries, (entry) => entry.eventId, 'uuid'),
    ];
    return `INSERT INTO ${this.table} (consumer, event_id) SELECT i.consumer, i.event_id
      ${unnestWrittenWith(params, columns, ['consumer', 'event_id'], 'i', writtenWith)}`;
  }

  /** The error of a statement from `insert` whose event had already been handled. */
  isDuplicate(error: unknown): boolean {
    return isUniqueViolation(error, 'inbox_pkey');
  }
}

/** How `recordAll` names an entry: Postgres writes a uuid in lower case. */
function inboxKey(consumer: string, eventId: string): string {
  return `${consumer}/${eventId.toLowerCase()}`;
}
