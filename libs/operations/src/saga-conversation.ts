import { JetStreamClient } from '@nats-io/jetstream';
import { conversationStreamsOf, EventEnvelope } from '@lib/contracts';
import { readRange } from './stream-range';

/** One event of a saga's conversation, where it is stored. */
export interface ConversationEvent {
  stream: string;
  seq: number;
  subject: string;
  /** When the stream stored it. */
  storedAt: string;
  event: EventEnvelope;
}

export interface Conversation {
  /** Oldest first (by `occurredAt`). */
  events: ConversationEvent[];
  /** A stream had more messages in the window than `limit`: later events may be missing. */
  truncated: boolean;
}

/** The streams a saga's events cross: the order app's and those of the replies it reads. */
export const SAGA_STREAMS: readonly string[] = conversationStreamsOf('order').map((s) => s.name);

/** Events are read from a little before the saga started and after it ended: clocks differ. */
const CLOCK_SLACK_MS = 60_000;
/** Messages read per stream at most: a saga's window on a busy stream can hold many. */
const DEFAULT_LIMIT = 100_000;

/**
 * Every event of a saga's conversation (its correlation id) across ORDERS, INVENTORY and PAYMENTS,
 * read from when it started to when it last moved (to the end of the streams while it is in
 * flight): what `saga-cli saga show` and the console's timeline show. The events carry no id in
 * their subject, so each stream's window is read through.
 */
export async function sagaConversation(
  js: JetStreamClient,
  saga: { correlationId: string; startedAt: Date; endedAt?: Date | null },
  limit = DEFAULT_LIMIT,
): Promise<Conversation> {
  const sinceMs = Date.now() - saga.startedAt.getTime() + CLOCK_SLACK_MS;
  const until = saga.endedAt ? new Date(saga.endedAt.getTime() + CLOCK_SLACK_MS) : undefined;
  let truncated = false;
  const perStream = await Promise.all(
    SAGA_STREAMS.map(async (stream) => {
      const events: ConversationEvent[] = [];
      let read = 0;
      for await (const message of readRange(js, { stream, sinceMs }, { until, limit })) {
        read++;
        const event = envelopeOf(message.string());
        if (event?.correlationId !== saga.correlationId) continue;
        events.push({
          stream,
          seq: message.seq,
          subject: message.subject,
          storedAt: message.timestamp,
          event,
        });
      }
      if (read >= limit) truncated = true;
      return events;
    }),
  );
  const events = perStream
    .flat()
    .sort((a, b) => a.event.occurredAt.localeCompare(b.event.occurredAt) || a.seq - b.seq);
  return { events, truncated };
}

/** A message that is not an event (a probe, a hand-made test message) belongs to no conversation. */
function envelopeOf(body: string): EventEnvelope | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<EventEnvelope> | null;
    return typeof parsed?.occurredAt === 'string' ? (parsed as EventEnvelope) : undefined;
  } catch {
    return undefined;
  }
}
