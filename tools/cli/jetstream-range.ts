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

/** Every message of a range, oldest first, read with an ordered consumer (nothing durable left behind). */
export async function* readRange(js: JetStreamClient, range: StreamRange): AsyncGenerator<JsMsg> {
  const consumer = await js.consumers.get(range.stream, startOf(range));
  for (;;) {
    let fetched = 0;
    for await (const message of await consumer.fetch({ max_messages: 500, expires: 1000 })) {
      fetched++;
      yield message;
      if (message.info.pending === 0) return;
    }
    if (fetched === 0) return;
  }
}
