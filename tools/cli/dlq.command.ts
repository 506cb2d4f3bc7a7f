import { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { DeadLetter } from '@lib/messaging';
import { NotFoundError, print, progress } from './cli-io';
import { readRange } from './jetstream-range';

const DLQ = 'DLQ';

interface StoredLetter {
  seq: number;
  letter: DeadLetter;
}

async function letters(js: JetStreamClient): Promise<StoredLetter[]> {
  const all: StoredLetter[] = [];
  for await (const message of readRange(js, { stream: DLQ })) {
    all.push({ seq: message.seq, letter: message.json<DeadLetter>() });
  }
  return all;
}

async function letter(jsm: JetStreamManager, seq: number): Promise<DeadLetter> {
  const stored = await jsm.streams.getMessage(DLQ, { seq }).catch(() => null);
  if (!stored) throw new NotFoundError(`no dead letter at DLQ sequence ${seq}`);
  return stored.json<DeadLetter>();
}

export async function dlqList(js: JetStreamClient, json: boolean): Promise<void> {
  const rows = (await letters(js)).map(({ seq, letter: l }) => ({
    seq,
    stream: l.stream,
    sequence: l.sequence,
    subject: l.subject,
    consumer: l.consumer,
    deliveries: l.deliveries,
    deadLetteredAt: l.deadLetteredAt,
    error: json ? l.error : l.error.slice(0, 80),
  }));
  print(rows, json, 'no dead letters');
}

export async function dlqShow(jsm: JetStreamManager, seq: number): Promise<void> {
  const l = await letter(jsm, seq);
  process.stdout.write(`${JSON.stringify({ seq, ...l, body: parseBody(l.body) }, null, 2)}\n`);
}

/**
 * Puts dead letters back on their original subjects, then removes them from the DLQ. A fresh
 * message id, because the original may still sit in the duplicate window; the consumer's inbox
 * keeps it from applying twice.
 */
export async function dlqReplay(
  js: JetStreamClient,
  jsm: JetStreamManager,
  seqs: number[] | 'all',
  json: boolean,
): Promise<void> {
  const targets =
    seqs === 'all'
      ? await letters(js)
      : await Promise.all(seqs.map(async (seq) => ({ seq, letter: await letter(jsm, seq) })));
  const bar = progress(targets.length, 'replaying dead letters');
  const rows: Record<string, unknown>[] = [];
  for (const { seq, letter: l } of targets) {
    const headers = natsHeaders();
    for (const [key, value] of Object.entries(l.headers))
      if (key !== 'Nats-Msg-Id') headers.set(key, value);
    const ack = await js.publish(l.subject, l.body, {
      headers,
      msgID: `dlq-replay:${seq}:${randomUUID()}`,
    });
    await jsm.streams.deleteMessage(DLQ, seq);
    rows.push({ seq, subject: l.subject, stream: l.stream, republishedAs: ack.seq });
    bar.tick();
  }
  bar.done();
  print(rows, json, 'no dead letters');
}

export async function dlqPurge(jsm: JetStreamManager, json: boolean): Promise<void> {
  const { purged } = await jsm.streams.purge(DLQ);
  print([{ purged }], json);
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
