import {
  AckPolicy,
  ConsumerConfig,
  DeliverPolicy,
  JetStreamApiError,
  JetStreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  StreamConfig,
} from '@nats-io/jetstream';
import { errors, nanos } from '@nats-io/nats-core';
import {
  DUPLICATE_WINDOW_MS,
  isCompensation,
  StreamDefinition,
  streamAccessOf,
  streamForSubject,
} from '@lib/contracts';

/** How long setup keeps retrying while a cluster settles before it gives up (and boot fails). */
const SETTLE_TIMEOUT_MS = 60_000;

/**
 * Creates the streams `service` needs, and brings those it produces to their definition (its NATS
 * user may update no others: see `streamAccessOf`). Safe to repeat.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  replicas: number,
  service: string,
): Promise<void> {
  const { created, updated } = streamAccessOf(service);
  for (const definition of created) {
    await whileClusterSettles(() =>
      ensureStream(jsm, definition, replicas, updated.includes(definition)),
    );
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  definition: StreamDefinition,
  replicas: number,
  mayUpdate: boolean,
): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: definition.name,
    subjects: definition.subjects,
    description: definition.description,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(definition.maxAgeMs),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: replicas,
  };
  if (await exists(() => jsm.streams.info(definition.name))) {
    if (mayUpdate) await jsm.streams.update(definition.name, config);
  } else {
    await jsm.streams.add(config);
  }
}

export interface ConsumerSettings {
  maxDeliver: number;
  ackWaitMs: number;
}

/**
 * Unacked messages a durable consumer hands out over all instances. An instance takes up to
 * 5 × NATS_CONCURRENCY, and at least 64 + 2 × NATS_CONCURRENCY (see the transport's `pullBatch`):
 * room for three instances at the order and inventory default of 64, or twelve at the default of 8.
 */
const MAX_ACK_PENDING = 1024;

/** JetStream's `max_deliver` for "no limit". */
const UNLIMITED = -1;

/** Durable names are deterministic: `<service>__<subject with dots as underscores>`. */
export function durableName(service: string, subject: string): string {
  return `${service}__${subject.replace(/\./g, '_')}`;
}

/** One durable pull consumer per service and subject, with explicit acks. Safe to repeat. */
export function ensureConsumer(
  jsm: JetStreamManager,
  service: string,
  subject: string,
  settings: ConsumerSettings,
): Promise<{ stream: string; durable: string }> {
  return whileClusterSettles(() => ensureDurable(jsm, service, subject, settings));
}

async function ensureDurable(
  jsm: JetStreamManager,
  service: string,
  subject: string,
  settings: ConsumerSettings,
): Promise<{ stream: string; durable: string }> {
  const stream = streamForSubject(subject).name;
  const durable = durableName(service, subject);
  const mutable = {
    description: `${service} handles ${subject}`,
    ack_wait: nanos(settings.ackWaitMs),
    // A compensation is retried until it is done: the server must never give up on it.
    max_deliver: isCompensation(subject) ? UNLIMITED : settings.maxDeliver,
    max_ack_pending: MAX_ACK_PENDING,
  };
  if (await exists(() => jsm.consumers.info(stream, durable))) {
    await jsm.consumers.update(stream, durable, mutable);
  } else {
    const config: Partial<ConsumerConfig> = {
      ...mutable,
      durable_name: durable,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
    };
    await jsm.consumers.add(stream, config);
  }
  return { stream, durable };
}

async function exists(lookup: () => Promise<unknown>): Promise<boolean> {
  try {
    await lookup();
    return true;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.status === 404) return false;
    throw error;
  }
}

/**
 * A cluster's JetStream API times out or answers 503 while it elects a meta or stream leader, or
 * while it places a new replicated stream that several apps booting together create at once; a
 * cluster whose servers are still meeting has no peers to place a replicated stream on yet.
 * Setup is safe to repeat, so it is repeated then, instead of failing the boot.
 */
async function whileClusterSettles<T>(setup: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 2000)) {
    try {
      return await setup();
    } catch (error) {
      if (!isUnsettled(error) || Date.now() + delayMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** JetStream's `err_code` for "no suitable peers for placement". */
const NO_PEERS_FOR_PLACEMENT = 10005;

function isUnsettled(error: unknown): boolean {
  return (
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoRespondersError ||
    (error instanceof JetStreamApiError &&
      (error.status === 503 || error.code === NO_PEERS_FOR_PLACEMENT))
  );
}
