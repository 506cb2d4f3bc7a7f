import { SUBSCRIPTIONS } from './subscriptions';

/** Every stream the platform owns. Applied idempotently at boot and by `npm run nats:setup`. */
export interface StreamDefinition {
  name: string;
  subjects: string[];
  description: string;
  maxAgeMs: number;
  /**
   * The one app that publishes this stream's subjects; none for the DLQ, which every consumer
   * writes. NATS permissions and who updates the stream at boot follow from it.
   */
  producer?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Where every consumer's dead letters go. */
export const DLQ_STREAM = 'DLQ';

export const STREAMS: readonly StreamDefinition[] = [
  {
    name: 'ORDERS',
    producer: 'order',
    subjects: ['order.>'],
    description: 'Order and saga events',
    maxAgeMs: 7 * DAY_MS,
  },
  {
    name: 'INVENTORY',
    producer: 'inventory',
    subjects: ['inventory.>'],
    description: 'Stock and reservation events',
    maxAgeMs: 7 * DAY_MS,
  },
  {
    name: 'PAYMENTS',
    producer: 'payment',
    subjects: ['payment.>'],
    description: 'Payment events',
    maxAgeMs: 7 * DAY_MS,
  },
  {
    name: 'TRADING',
    producer: 'trading',
    subjects: ['trading.>'],
    description: 'Strategy, order and fill events',
    maxAgeMs: 7 * DAY_MS,
  },
  // Dead letters are kept longer than the events they point at, so operators have time to act.
  {
    name: DLQ_STREAM,
    subjects: ['dlq.>'],
    description: 'Dead letters with their failure metadata',
    maxAgeMs: 30 * DAY_MS,
  },
];

/** An app the contracts name as a producer or a consumer (not tooling or a test probe). */
export function isPlatformApp(service: string): boolean {
  return service in SUBSCRIPTIONS || STREAMS.some((stream) => stream.producer === service);
}

/**
 * The operators' web console (apps/console): neither a producer nor a consumer, but a NATS client
 * with a user of its own. It reads the saga's conversation (`conversationStreamsOf('order')`) and
 * the dead letters, and puts dead letters back on the subjects they came from.
 */
export const CONSOLE_SERVICE = 'console';

/**
 * Where an app's replies arrive (API answers, publish acks, pulled messages): a prefix of its own,
 * so its NATS user may subscribe to its replies and nobody else's. The console has one too; other
 * tooling uses the default.
 */
export function inboxPrefixOf(service: string): string {
  return isPlatformApp(service) || service === CONSOLE_SERVICE ? `_INBOX_${service}` : '_INBOX';
}

/**
 * The streams of an app's conversations: those it publishes and those it reads replies from. For
 * the order app, the streams a saga's events cross (ORDERS, INVENTORY, PAYMENTS).
 */
export function conversationStreamsOf(service: string): readonly StreamDefinition[] {
  const read = new Set((SUBSCRIPTIONS[service] ?? []).map((s) => streamForSubject(s).name));
  return STREAMS.filter((stream) => stream.producer === service || read.has(stream.name));
}

/** Every subject some app consumes: what a dead letter can have been, and so be replayed on. */
export function consumedSubjects(): readonly string[] {
  return [...new Set(Object.values(SUBSCRIPTIONS).flat())];
}

/**
 * What a service may do to streams at boot: create the streams it publishes to or reads from (so
 * apps boot in any order), and update only those it produces. A name the contracts do not know
 * (tooling, test probes) gets every stream, as `npm run nats:setup` does.
 */
export function streamAccessOf(service: string): {
  created: readonly StreamDefinition[];
  updated: readonly StreamDefinition[];
} {
  if (!isPlatformApp(service)) return { created: STREAMS, updated: STREAMS };
  const consumed = SUBSCRIPTIONS[service];
  const produced = STREAMS.filter((stream) => stream.producer === service);
  const read = new Set((consumed ?? []).map((subject) => streamForSubject(subject).name));
  // A consumer dead-letters what it cannot handle.
  if (consumed) read.add(DLQ_STREAM);
  const created = STREAMS.filter((stream) => stream.producer === service || read.has(stream.name));
  return { created, updated: produced };
}

/** At least two minutes, so a relay that re-publishes after a crash is de-duplicated by the server. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export function streamForSubject(subject: string): StreamDefinition {
  const prefix = subject.split('.')[0];
  const stream = STREAMS.find((s) => s.subjects.some((pattern) => pattern === `${prefix}.>`));
  if (!stream) throw new Error(`No stream captures subject "${subject}"`);
  return stream;
}

/** The subject a dead letter is stored under: `dlq.<stream>.<consumer>`. */
export function deadLetterSubject(stream: string, consumer: string): string {
  return `dlq.${stream}.${consumer}`;
}
