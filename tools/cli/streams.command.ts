import { JetStreamManager } from '@nats-io/jetstream';
import { streamsOverview } from '@lib/operations';
import { print } from './cli-io';

/**
 * `streams`: message counts per stream, each consumer's backlog and redeliveries, and on a cluster
 * which server leads each stream and consumer and which replicas are behind.
 */
export async function streamsCommand(jsm: JetStreamManager, json: boolean): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const stream of await streamsOverview(jsm)) {
    rows.push({
      stream: stream.name,
      consumer: '',
      messages: stream.messages,
      first_seq: stream.firstSeq,
      last_seq: stream.lastSeq,
      pending: '',
      ack_pending: '',
      redelivered: '',
      leader: stream.leader,
      lagging: stream.lagging.join(','),
    });
    for (const consumer of stream.consumers) {
      rows.push({
        stream: stream.name,
        consumer: consumer.name,
        messages: '',
        first_seq: '',
        last_seq: '',
        pending: consumer.pending,
        ack_pending: consumer.ackPending,
        redelivered: consumer.redelivered,
        leader: consumer.leader,
        lagging: consumer.lagging.join(','),
      });
    }
  }
  print(json ? rows.map(withoutBlanks) : rows, json);
}

function withoutBlanks(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== ''));
}
