/** Every stream the platform owns. Applied idempotently at boot and by `npm run nats:setup`. */
export interface StreamDefinition {
  name: string;
  subjects: string[];
  description: string;
  maxAgeMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const STREAMS: readonly StreamDefinition[] = [
  {
    name: 'ORDERS',
    subjects: ['order.>'],
    description: 'Order and saga events',
    maxAgeMs: 7 * DAY_MS,
  },
  {
    name: 'INVENTORY',
    subjects: ['inventory.>'],
    description: 'Stock and reservation events',
    maxAgeMs: 7 * DAY_MS,
  },
  {
    name: 'PAYMENTS',
    subjects: ['payment.>'],
    description: 'Payment events',
    maxAgeMs: 7 * DAY_MS,
  },
  {
    name: 'TRADING',
    subjects: ['trading.>'],
    description: 'Strategy, order and fill events',
    maxAgeMs: 7 * DAY_MS,
  },
  // Dead letters are kept longer than the events they point at, so operators have time to act.
  {
    name: 'DLQ',
    subjects: ['dlq.>'],
    description: 'Dead letters with their failure metadata',
    maxAgeMs: 30 * DAY_MS,
  },
];

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
