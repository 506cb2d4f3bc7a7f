import { JetStreamManager } from '@nats-io/jetstream';
import { print } from './cli-io';

/** `streams`: message counts per stream, and each consumer's backlog and redeliveries. */
export async function streamsCommand(jsm: JetStreamManager, json: boolean): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for await (const stream of jsm.streams.list()) {
    const { name } = stream.config;
    const { messages, first_seq, last_seq } = stream.state;
    rows.push({
      stream: name,
      consumer: '',
      messages,
      first_seq,
      last_seq,
      pending: '',
      ack_pending: '',
      redelivered: '',
    });
    for await (const consumer of jsm.consumers.list(name)) {
      rows.push({
        stream: name,
        consumer: consumer.name,
        messages: '',
        first_seq: '',
        last_seq: '',
        pending: consumer.num_pending,
        ack_pending: consumer.num_ack_pending,
        redelivered: consumer.num_redelivered,
      });
    }
  }
  print(json ? rows.map(withoutBlanks) : rows, json);
}

function withoutBlanks(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== ''));
}
