import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EventEnvelope } from '@lib/contracts';
import { subjectFor } from '@lib/contracts';
import { OutboxRecord } from './outbox.entity';

/** Adds events to the outbox inside the caller's transaction: they are published only if it commits. */
@Injectable()
export class Outbox {
  async add(manager: EntityManager, events: EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    await manager.insert(
      OutboxRecord,
      events.map((event) => ({
        eventId: event.eventId,
        subject: subjectFor(event.eventName, event.eventVersion),
        body: JSON.stringify(event),
        correlationId: event.correlationId,
        causationId: event.causationId,
      })),
    );
  }
}
