import { JetStreamClient } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { EventEnvelope, subjectFor } from '@lib/contracts';

/**
 * Publishes an event as a participant would. `asCopy` re-publishes it under a new message id, as
 * a replay or a redelivery from another stream sequence would, to prove the inbox catches it.
 */
export async function publishEvent(
  js: JetStreamClient,
  event: EventEnvelope,
  { asCopy = false } = {},
): Promise<number> {
  const ack = await js.publish(
    subjectFor(event.eventName, event.eventVersion),
    JSON.stringify(event),
    {
      msgID: asCopy ? randomUUID() : event.eventId,
    },
  );
  return ack.seq;
}
