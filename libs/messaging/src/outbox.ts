import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope, subjectFor } from '@lib/contracts';
import { traceContextOf, tracingOn } from '@lib/observability';
import { afterCommit, insertRows, SqlParams, WriteSet, WrittenWith } from '@lib/persistence';
import { OutboxRecord } from './outbox.entity';
import { OutboxMessage, OutboxPublisher } from './outbox.publisher';

/**
 * Adds events to the outbox inside the caller's transaction: they are published only if it commits,
 * by this process as soon as it has (OutboxPublisher), or else by the relay.
 */
@Injectable()
export class Outbox {
  private readonly table: string;
  /** Each event is serialised once: for its row and for its publication. */
  private readonly bodies = new WeakMap<EventEnvelope, string>();

  constructor(
    dataSource: DataSource,
    private readonly publisher: OutboxPublisher,
  ) {
    this.table = dataSource.getMetadata(OutboxRecord).tablePath;
  }

  async add(manager: EntityManager, events: EventEnvelope[]): Promise<void> {
    await this.addTo(new WriteSet(), events).run(manager);
  }

  /** Adds the events to writes that commit together (nothing when there are none). */
  addTo(writes: WriteSet, events: EventEnvelope[]): WriteSet {
    if (events.length === 0) return writes;
    return writes
      .add((params) => this.insert(events, params))
      .onCommit(() => this.publisher.publishCommitted(events.map((e) => this.messageOf(e))));
  }

  /**
   * The insert of `events` as SQL, for a caller that writes its state change and its events in one
   * statement (a sub-statement of a data-modifying CTE); with `writtenWith`, each event is written
   * only when the state change it belongs to was. The caller then hands the events it wrote to
   * `publishOnCommit`.
   */
  insert(events: EventEnvelope[], params: SqlParams, writtenWith?: WrittenWith): string {
    const column = (value: (event: EventEnvelope) => unknown, type: string) =>
      params.array(events, value, type);
    const columns = [
      column((e) => e.eventId, 'uuid'),
      column((e) => subjectFor(e.eventName, e.eventVersion), 'text'),
      column((e) => this.bodyOf(e), 'text'),
      column((e) => e.correlationId, 'text'),
      column((e) => e.causationId, 'text'),
    ];
    const names = ['event_id', 'subject', 'body', 'correlation_id', 'causation_id'];
    // Only when tracing is on: off, the statement is what it was before tracing existed.
    if (tracingOn()) {
      columns.push(column((e) => traceContextOf(e), 'jsonb'));
      names.push('trace_context');
    }
    return insertRows(this.table, names, columns, params, writtenWith);
  }

  /**
   * Events that a statement built with `insert` wrote through `runner`: published once they are
   * committed (at once, or when `runner`'s transaction commits).
   */
  publishOnCommit(runner: unknown, events: EventEnvelope[]): void {
    if (events.length === 0) return;
    afterCommit(runner, () =>
      this.publisher.publishCommitted(events.map((e) => this.messageOf(e))),
    );
  }

  private messageOf(event: EventEnvelope): OutboxMessage {
    return {
      eventId: event.eventId,
      subject: subjectFor(event.eventName, event.eventVersion),
      body: this.bodyOf(event),
      correlationId: event.correlationId,
      causationId: event.causationId,
      writtenAt: Date.parse(event.occurredAt),
      traceContext: traceContextOf(event),
    };
  }

  private bodyOf(event: EventEnvelope): string {
    let body = this.bodies.get(event);
    if (body === undefined) {
      body = JSON.stringify(event);
      this.bodies.set(event, body);
    }
    return body;
  }
}
