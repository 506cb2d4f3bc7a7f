import { JetStreamManager } from '@nats-io/jetstream';
import { EventEnvelope } from '@lib/contracts';

export interface StoredEvent<T = EventEnvelope> {
  seq: number;
  subject: string;
  body: T;
}

/** Every message of a stream (optionally one subject), read straight from the store. */
export async function readStream<T = EventEnvelope>(
  jsm: JetStreamManager,
  stream: string,
  subject?: string,
): Promise<StoredEvent<T>[]> {
  const { state } = await jsm.streams.info(stream);
  const events: StoredEvent<T>[] = [];
  if (state.messages === 0) return events;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!message || (subject && message.subject !== subject)) continue;
    events.push({ seq, subject: message.subject, body: message.json<T>() });
  }
  return events;
}
