import { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { DLQ_STREAM } from '@lib/contracts';
import { DeadLetter } from '@lib/messaging';
import { DEFAULT_TENANT } from '@lib/platform';
import { appOfConsumer, appOfStream, OperationsActor, OperationsAudit } from './operations-audit';
import { DeadLetterNotFoundError, OperationError } from './operations.errors';
import { readRange } from './stream-range';

/** A dead letter and where it sits in the DLQ stream. */
export interface StoredLetter {
  seq: number;
  letter: DeadLetter;
}

/** Which dead letters: those of one consumer, of one original subject, or both. */
export interface DeadLetterFilter {
  consumer?: string;
  subject?: string;
}

export interface ReplayedLetter {
  seq: number;
  subject: string;
  stream: string;
  consumer: string;
  /** Its sequence in the original stream, where it was published again. */
  republishedAs: number;
}

/**
 * The dead letters there are, oldest first, matching `filter`; up to DLQ sequence `lastSeq` when
 * given (what an operator confirmed, not what arrived since).
 */
export async function readDeadLetters(
  js: JetStreamClient,
  filter: DeadLetterFilter = {},
  lastSeq?: number,
): Promise<StoredLetter[]> {
  const matches = lettersMatching(filter);
  const all: StoredLetter[] = [];
  for await (const message of readRange(js, { stream: DLQ_STREAM }, { lastSeq })) {
    const stored = { seq: message.seq, letter: message.json<DeadLetter>() };
    if (matches(stored)) all.push(stored);
  }
  return all;
}

export function lettersMatching(filter: DeadLetterFilter): (stored: StoredLetter) => boolean {
  return ({ letter }) =>
    (!filter.consumer || letter.consumer === filter.consumer) &&
    (!filter.subject || letter.subject === filter.subject);
}

export async function deadLetterAt(jsm: JetStreamManager, seq: number): Promise<StoredLetter> {
  const stored = await jsm.streams.getMessage(DLQ_STREAM, { seq }).catch(() => null);
  if (!stored) throw new DeadLetterNotFoundError(seq);
  return { seq, letter: stored.json<DeadLetter>() };
}

/**
 * Puts dead letters back on their original subjects, then removes them from the DLQ. A fresh
 * message id, because the original may still sit in the duplicate window; the consumer's inbox
 * keeps it from applying twice. Each letter leaves an audit record with the app of its consumer,
 * and all those apps' trails are reached before the first letter moves.
 */
export async function replayDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  targets: StoredLetter[],
  audit: OperationsAudit,
  by: OperationsActor,
  onReplayed: () => void = () => undefined,
): Promise<ReplayedLetter[]> {
  await audit.ready(targets.map(({ letter }) => ownerOfLetter(letter)));
  const replayed: ReplayedLetter[] = [];
  for (const { seq, letter: l } of targets) {
    const details = { dlqSeq: seq, subject: l.subject, consumer: l.consumer, error: l.error };
    const done = await audit.run(
      by,
      {
        action: 'dlq.replay',
        app: ownerOfLetter(l),
        entity: { type: 'message', id: `${l.stream}/${l.sequence}` },
        tenantId: tenantOfLetter(l),
        details,
      },
      async () => {
        const headers = natsHeaders();
        for (const [key, value] of Object.entries(l.headers))
          if (key !== 'Nats-Msg-Id') headers.set(key, value);
        const ack = await js.publish(l.subject, l.body, {
          headers,
          msgID: `dlq-replay:${seq}:${randomUUID()}`,
        });
        await jsm.streams.deleteMessage(DLQ_STREAM, seq);
        return {
          seq,
          subject: l.subject,
          stream: l.stream,
          consumer: l.consumer,
          republishedAs: ack.seq,
        };
      },
      (result) => ({ ...details, republishedAs: result.republishedAs }),
    );
    replayed.push(done);
    onReplayed();
  }
  return replayed;
}

/**
 * Removes the dead letters there are now, up to `lastSeq` when given (one that arrives meanwhile
 * stays), with one audit record per consumer whose letters went, in the schema of that consumer's
 * app. Answers how many went.
 */
export async function purgeDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  audit: OperationsAudit,
  by: OperationsActor,
  lastSeq?: number,
): Promise<number> {
  const all = await readDeadLetters(js, {}, lastSeq);
  const last = all.at(-1);
  if (!last) return 0;
  const byConsumer = new Map<string, StoredLetter[]>();
  for (const stored of all) {
    const group = byConsumer.get(stored.letter.consumer);
    if (group) group.push(stored);
    else byConsumer.set(stored.letter.consumer, [stored]);
  }
  const purging = [...byConsumer].map(([consumer, gone]) => ({
    action: 'dlq.purge' as const,
    app: ownerOfLetter(gone[0]!.letter),
    entity: { type: 'consumer', id: consumer },
    details: {
      stream: gone[0]!.letter.stream,
      letters: gone.length,
      dlqSeqs: gone.map((stored) => stored.seq),
    },
  }));
  // Up to the last letter read, so each consumer's record names exactly the letters that went.
  const { purged } = await audit.run(by, purging, () =>
    jsm.streams.purge(DLQ_STREAM, { seq: last.seq + 1 }),
  );
  return purged;
}

/** The app whose consumer gave up on the letter; its stream's app for a consumer of no app. */
export function ownerOfLetter(l: DeadLetter): string {
  const app = appOfConsumer(l.consumer) ?? appOfStream(l.stream);
  if (!app) throw new OperationError(`dead letter of ${l.consumer} on ${l.stream}: no app owns it`);
  return app;
}

/** The tenant of the dead event (the default tenant when its envelope names none). */
export function tenantOfLetter(l: DeadLetter): string | null {
  const body = letterBody(l) as { tenantId?: unknown } | string;
  if (typeof body !== 'object' || body === null) return null;
  return typeof body.tenantId === 'string' ? body.tenantId : DEFAULT_TENANT;
}

/** The letter's body as JSON when it is JSON (an event), else the text. */
export function letterBody(l: DeadLetter): unknown {
  try {
    return JSON.parse(l.body);
  } catch {
    return l.body;
  }
}
