import { ClusterInfo, JetStreamManager } from '@nats-io/jetstream';

/** Where a stream or consumer lives on a cluster: its leader and the replicas that are behind. */
export interface Placement {
  /** Empty on a single server. */
  leader: string;
  lagging: string[];
}

export interface ConsumerOverview extends Placement {
  name: string;
  /** Messages of its filter it has not been delivered yet. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  redelivered: number;
}

export interface StreamOverview extends Placement {
  name: string;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumers: ConsumerOverview[];
}

/**
 * Every stream with its message counts and each consumer's backlog and redeliveries, and on a
 * cluster which server leads each stream and consumer and which replicas are behind (before and
 * after a step-down, or while a restarted server catches up).
 */
export async function streamsOverview(jsm: JetStreamManager): Promise<StreamOverview[]> {
  const streams: StreamOverview[] = [];
  for await (const stream of jsm.streams.list()) {
    const consumers: ConsumerOverview[] = [];
    for await (const consumer of jsm.consumers.list(stream.config.name)) {
      consumers.push({
        name: consumer.name,
        pending: consumer.num_pending,
        ackPending: consumer.num_ack_pending,
        redelivered: consumer.num_redelivered,
        ...placement(consumer.cluster),
      });
    }
    const { messages, bytes, first_seq, last_seq } = stream.state;
    streams.push({
      name: stream.config.name,
      messages,
      bytes,
      firstSeq: first_seq,
      lastSeq: last_seq,
      consumers: consumers.sort((a, b) => a.name.localeCompare(b.name)),
      ...placement(stream.cluster),
    });
  }
  return streams.sort((a, b) => a.name.localeCompare(b.name));
}

function placement(cluster: ClusterInfo | undefined): Placement {
  return {
    leader: cluster?.leader ?? '',
    lagging: (cluster?.replicas ?? []).filter((r) => !r.current).map((r) => r.name),
  };
}
