import { ClusterInfo, JetStreamManager } from '@nats-io/jetstream';
import { print } from './cli-io';

/**
 * `streams`: message counts per stream, each consumer's backlog and redeliveries, and on a cluster
 * which server leads each stream and consumer and which replicas are behind (before and after a
 * step-down, or while a restarted server catches up).
 */
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
      ...placement(stream.cluster),
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
        ...placement(consumer.cluster),
      });
    }
  }
  print(json ? rows.map(withoutBlanks) : rows, json);
}

/** The leader, and the replicas that are not current (blank on a single server). */
function placement(cluster: ClusterInfo | undefined): { leader: string; lagging: string } {
  const lagging = (cluster?.replicas ?? []).filter((replica) => !replica.current);
  return {
    leader: cluster?.leader ?? '',
    lagging: lagging.map((replica) => replica.name).join(','),
  };
}

function withoutBlanks(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== ''));
}
