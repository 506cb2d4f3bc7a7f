import { DeliverPolicy, JetStreamClient, JsMsg, OrderedConsumerOptions } from '@nats-io/jetstream';

/** A part of a stream: from a sequence or a point in time (else the start), one subject or all. */
export interface StreamRange {
  stream: string;
  subject?: string;
  fromSeq?: number;
  sinceMs?: number;
}

export function startOf(range: StreamRange): Partial<OrderedConsumerOptions> {
  const filter = range.subject ? { filter_subjects: range.subject } : {};
  if (range.fromSeq !== undefined) {
    return { ...filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: range.fromSeq };
  }
  if (range.sinceMs !== undefined) {
    const since = new Date(Date.now() - range.sinceMs).toISOString();
    return { ...filter, deliver_policy: DeliverPolicy.StartTime, opt_start_time: since };
  }
  return { ...filter, deliver_policy: DeliverPolicy.All };
}

export interface RangeBounds {
  /**
   * The stream's last sequence when the caller began: a caller that publishes into the stream it
   * reads must not read its own messages.
   */
  lastSeq?: number;
  /** Stops at the first message stored after this time. */
  until?: Date;
  /** Stops after this many messages. */
  limit?: number;
}

/**
 * Every message of a range, oldest first, read with an ordered consumer, which is deleted at the
 * end (nothing is left behind; the server would drop it after 5 idle minutes anyway).
 */
export async function* readRange(
  js: JetStreamClient,
  range: StreamRange,
  { lastSeq = Infinity, until, limit = Infinity }: RangeBounds = {},
): AsyncGenerator<JsMsg> {
  const consumer = await js.consumers.get(range.stream, startOf(range));
  const untilMs = until?.getTime();
  let read = 0;
  try {
    for (;;) {
      let fetched = 0;
      for await (const message of await consumer.fetch({ max_messages: 500, expires: 1000 })) {
        if (message.seq > lastSeq || read >= limit) return;
        if (untilMs !== undefined && Date.parse(message.timestamp) > untilMs) return;
        fetched++;
        read++;
        yield message;
        if (message.info.pending === 0 || message.seq === lastSeq) return;
      }
      if (fetched === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
