import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope, subjectFor } from '@lib/contracts';
import { traceContextOf, tracingOn } from '@lib/observability';
import { SqlParams, unnestWrittenWith, WriteSet, WrittenWith } from '@lib/persistence';
import { OutboxRecord } from './outbox.entity';

/** Adds events to the outbox inside the caller's transaction: they are published only if it commits. */
@Injectable()
export class Outbox {
  private readonly table: string;

  constructor(dataSource: DataSource) {
    this.table = dataSource.getMetadata(OutboxRecord).tablePath;
  }

  async add(manager: EntityManager, events: EventEnvelope[]): Promise<void> {
    await this.addTo(new WriteSet(), events).run(manager);
  }

  /** Adds the events to writes that commit together (nothing when there are none). */
  addTo(writes: WriteSet, events: EventEnvelope[]): WriteSet {
    return events.length > 0 ? writes.add((params) => this.insert(events, params)) : writes;
  }

  /**
   * The insert of `events` as SQL, for a caller that writes its state change and its events in one
   * statement (a sub-statement of a data-modifying CTE); with `writtenWith`, each event is written
   * only when the state change it belongs to was.
   */
  insert(events: EventEnvelope[], params: SqlParams, writtenWith?: WrittenWith): string {
    const column = (value: (event: EventEnvelope) => unknown, type: string) =>
      params.array(events, value, type);
    const columns = [
      column((e) => e.eventId, 'uuid'),
      column((e) => subjectFor(e.eventName, e.eventVersion), 'text'),
      column((e) => JSON.stringify(e), 'text'),
      column((e) => e.correlationId, 'text'),
      column((e) => e.causationId, 'text'),
    ];
    const names = ['event_id', 'subject', 'body', 'correlation_id', 'causation_id'];
    // Only when tracing is on: off, the statement is what it was before tracing existed.
    if (tracingOn()) {
      columns.push(column((e) => traceContextOf(e), 'jsonb'));
      names.push('trace_context');
    }
    const source = writtenWith
      ? unnestWrittenWith(params, columns, names, 'e', writtenWith)
      : `FROM unnest(${columns.join(', ')}) AS e(${names.join(', ')})`;
    return `INSERT INTO ${this.table} (${names.join(', ')})
      SELECT ${names.map((name) => `e.${name}`).join(', ')} ${source}`;
  }
}
