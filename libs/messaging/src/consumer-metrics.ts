import { ConsumerInfo } from '@nats-io/jetstream';
import { gauge } from '@lib/observability';

/** A durable consumer of this process, whose state the server knows (one request each). */
interface WatchedConsumer {
  stream: string;
  consumer: string;
  info: () => Promise<ConsumerInfo>;
}

const watched = new Set<WatchedConsumer>();
/** One round of requests serves the three gauges of a scrape. */
const FRESH_MS = 1000;
let latest:
  { at: number; infos: Promise<[WatchedConsumer, ConsumerInfo | undefined][]> } | undefined;

/**
 * The consumers' state as the server reports it, read when Prometheus scrapes (never on the path of
 * a message). A consumer whose info cannot be read (NATS away) keeps its last values.
 */
function consumerStates(): Promise<[WatchedConsumer, ConsumerInfo | undefined][]> {
  if (!latest || Date.now() - latest.at > FRESH_MS) {
    const infos = Promise.all(
      [...watched].map(async (w): Promise<[WatchedConsumer, ConsumerInfo | undefined]> => [
        w,
        await w.info().catch(() => undefined),
      ]),
    );
    latest = { at: Date.now(), infos };
  }
  return latest.infos;
}

function consumerGauge(name: string, help: string, field: (info: ConsumerInfo) => number) {
  return gauge({
    name,
    help,
    labelNames: ['stream', 'consumer'],
    async collect() {
      for (const [{ stream, consumer }, info] of await consumerStates()) {
        if (info) this.set({ stream, consumer }, field(info));
      }
    },
  });
}

export const consumerMetrics = {
  pending: consumerGauge(
    'jetstream_consumer_pending',
    'Messages of the stream the durable consumer has not been delivered yet (its backlog)',
    (info) => info.num_pending,
  ),
  ackPending: consumerGauge(
    'jetstream_consumer_ack_pending',
    'Messages delivered to the durable consumer and not acknowledged yet',
    (info) => info.num_ack_pending,
  ),
  redelivered: consumerGauge(
    'jetstream_consumer_redelivered',
    'Messages delivered more than once and not acknowledged yet',
    (info) => info.num_redelivered,
  ),
};

/** Reports a consumer's state in the gauges until the returned function is called. */
export function watchConsumer(consumer: WatchedConsumer): () => void {
  watched.add(consumer);
  return () => {
    watched.delete(consumer);
    for (const metric of Object.values(consumerMetrics)) {
      metric.remove({ stream: consumer.stream, consumer: consumer.consumer });
    }
  };
}
