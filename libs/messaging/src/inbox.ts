import { AsyncResource } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope } from '@lib/contracts';
import {
  isUniqueViolation,
  queryPrepared,
  SqlParams,
  insertRows,
  WrittenWith,
} from '@lib/persistence';
import { InboxRecord } from './inbox.entity';
import { JetStreamContext } from './jetstream.context';

/** An event as the inbox records it: handled once per consumer. */
export interface InboxEntry {
  consumer: string;
  eventId: string;
}

interface InboxDelivery<E extends EventEnvelope = EventEnvelope> {
  context: JetStreamContext;
  event: E;
}

/** A `handleOnce` call waiting for its batch's transaction. */
interface PendingCall extends InboxDelivery {
  effect: (manager: EntityManager) => Promise<unknown>;
  lockKey: string;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The most `handleOnce` calls that share one transaction. */
const MAX_BATCH = 100;

@Injectable()
export class Inbox {
  private readonly table: string;
  /** The calls of this event-loop turn so far: they will share a transaction. */
  private gathering: PendingCall[] = [];

  constructor(private readonly dataSource: DataSource) {
    this.table = dataSource.getMetadata(InboxRecord).tablePath;
  }

  /**
   * Applies `effect` once per consumer and event: the inbox record and the effect commit together,
   * so a redelivered or replayed event is skipped (and acked) instead of applied again. Two
   * deliveries racing each other serialise on the primary key. Answers what the effect returned,
   * or undefined for a duplicate.
   *
   * The calls of one event-loop turn (the transport hands a NATS read's messages to their handlers
   * together) share one transaction, each fresh event's effect run in turn: a commit per batch
   * instead of per event. If that transaction fails, each call runs again alone, so an error reaches
   * only the caller whose effect threw, and the others commit once. Hence an effect must keep to
   * the manager it is given: one with a side effect outside the database (a Stripe call) may run
   * twice, as on a redelivery.
   *
   * An effect that locks a row names it in `lockKey` (e.g. the order id): a batch runs its effects
   * in the order of their keys (those of one key in delivery order, keyless ones first), so two
   * batches take their locks in the same order and cannot deadlock each other.
   */
  handleOnce<T>(
    context: JetStreamContext,
    event: EventEnvelope,
    effect: (manager: EntityManager) => Promise<T>,
    lockKey = '',
  ): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      const batch = this.gathering;
      batch.push({
        context,
        event,
        // Runs in its caller's async context (log context, trace), whichever call started the batch.
        effect: AsyncResource.bind(effect),
        lockKey,
        resolve: (value) => resolve(value as T | undefined),
        reject,
      });
      if (batch.length === 1) setImmediate(() => void this.runBatch(batch));
      if (batch.length === MAX_BATCH) this.gathering = [];
    });
  }

  /**
   * `handleOnce` for several deliveries in one transaction: `effect` gets the events not handled
   * before (in delivery order), and is not called when there are none.
   */
  async handleAllOnce<E extends EventEnvelope, T>(
    deliveries: InboxDelivery<E>[],
    effect: (manager: EntityManager, events: E[]) => Promise<T>,
  ): Promise<T | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const fresh = await this.recordFresh(manager, deliveries);
      deliveries.forEach(({ context }, i) => (context.duplicate = !fresh[i]));
      const events = deliveries.filter((_, i) => fresh[i]).map(({ event }) => event);
      return events.length > 0 ? effect(manager, events) : undefined;
    });
  }

  /**
   * Runs the calls in one transaction: records their events, then each new one's effect in turn.
   * If it fails, each call runs again alone (see `handleOnce`).
   */
  private async runBatch(calls: PendingCall[]): Promise<void> {
    if (this.gathering === calls) this.gathering = [];
    calls.sort(byLockKey);
    let fresh: boolean[];
    const values: unknown[] = [];
    try {
      fresh = await this.dataSource.transaction(async (manager) => {
        const recorded = await this.recordFresh(manager, calls);
        for (const [i, call] of calls.entries()) {
          values.push(recorded[i] ? await call.effect(manager) : undefined);
        }
        return recorded;
      });
    } catch (error) {
      if (calls.length === 1) calls[0]!.reject(error);
      else await Promise.all(calls.map((call) => this.runBatch([call])));
      return;
    }
    calls.forEach(({ context, resolve }, i) => {
      context.duplicate = !fresh[i];
      resolve(values[i]);
    });
  }

  /**
   * Records the deliveries' events in one statement; answers, in order, whether each one is new.
   * A second delivery of one event in the same call is not (`delete`).
   */
  private async recordFresh(
    manager: EntityManager,
    deliveries: InboxDelivery[],
  ): Promise<boolean[]> {
    const recorded = await this.recordAll(
      manager,
      deliveries.map(({ context, event }) => ({
        consumer: context.consumer,
        eventId: event.eventId,
      })),
    );
    return deliveries.map(({ context, event }) =>
      recorded.delete(inboxKey(context.consumer, event.eventId)),
    );
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
    return insertRows(this.table, ['consumer', 'event_id'], columns, params, writtenWith);
  }

  /** The error of a statement from `insert` whose event had already been handled. */
  isDuplicate(error: unknown): boolean {
    return isUniqueViolation(error, 'inbox_pkey');
  }
}

/** A stable sort keeps the delivery order of the calls of one key. */
function byLockKey(a: PendingCall, b: PendingCall): number {
  return a.lockKey < b.lockKey ? -1 : a.lockKey > b.lockKey ? 1 : 0;
}

/** How `recordAll` names an entry: Postgres writes a uuid in lower case. */
function inboxKey(consumer: string, eventId: string): string {
  return `${consumer}/${eventId.toLowerCase()}`;
}
