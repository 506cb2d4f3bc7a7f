import { DeliverPolicy, JetStreamClient, JsMsg, OrderedConsumerOptions } from '@nats-io/jetstream';

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

/**
 * Every message of a range, oldest first, read with an ordered consumer (nothing durable left
 * behind). With `lastSeq` (the stream's last sequence when the caller began), it stops there: a
 * caller that publishes into the stream it reads must not read its own messages.
 */
export async function* readRange(
  js: JetStreamClient,
  range: StreamRange,
  lastSeq = Infinity,
): AsyncGenerator<JsMsg> {
  const consumer = await js.consumers.get(range.stream, startOf(range));
  for (;;) {
    let fetched = 0;
    for await (const message of await consumer.fetch({ max_messages: 500, expires: 1000 })) {
      if (message.seq > lastSeq) return;
      fetched++;
      yield message;
      if (message.info.pending === 0 || message.seq === lastSeq) return;
    }
    if (fetched === 0) return;
  }
}
