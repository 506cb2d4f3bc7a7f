import { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { DeadLetter } from '@lib/messaging';
import { DEFAULT_TENANT } from '@lib/platform';
import { appOfConsumer, appOfStream, CliAudit } from './cli-audit';
import { CliError, NotFoundError, print, progress } from './cli-io';
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
 * keeps it from applying twice. Each letter leaves an audit record with the app of its consumer.
 */
export async function dlqReplay(
  js: JetStreamClient,
  jsm: JetStreamManager,
  seqs: number[] | 'all',
  json: boolean,
  audit: CliAudit,
): Promise<void> {
  const targets =
    seqs === 'all'
      ? await letters(js)
      : await Promise.all(seqs.map(async (seq) => ({ seq, letter: await letter(jsm, seq) })));
  await audit.ready(targets.map(({ letter: l }) => ownerOf(l)));
  const bar = progress(targets.length, 'replaying dead letters');
  const rows: Record<string, unknown>[] = [];
  for (const { seq, letter: l } of targets) {
    const details = { dlqSeq: seq, subject: l.subject, consumer: l.consumer, error: l.error };
    const row = await audit.run(
      {
        action: 'dlq.replay',
        app: ownerOf(l),
        entity: { type: 'message', id: `${l.stream}/${l.sequence}` },
        tenantId: tenantOf(l),
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
        await jsm.streams.deleteMessage(DLQ, seq);
        return { seq, subject: l.subject, stream: l.stream, republishedAs: ack.seq };
      },
      (done) => ({ ...details, republishedAs: done.republishedAs }),
    );
    rows.push(row);
    bar.tick();
  }
  bar.done();
  print(rows, json, 'no dead letters');
}

/**
 * Removes the dead letters there are now (one that arrives meanwhile stays), with one audit record
 * per consumer whose letters went, in the schema of that consumer's app.
 */
export async function dlqPurge(
  js: JetStreamClient,
  jsm: JetStreamManager,
  json: boolean,
  audit: CliAudit,
): Promise<void> {
  const all = await letters(js);
  const byConsumer = new Map<string, StoredLetter[]>();
  for (const stored of all) {
    const group = byConsumer.get(stored.letter.consumer);
    if (group) group.push(stored);
    else byConsumer.set(stored.letter.consumer, [stored]);
  }
  const last = all.at(-1);
  if (!last) return print([{ purged: 0 }], json);
  const purging = [...byConsumer].map(([consumer, gone]) => ({
    action: 'dlq.purge' as const,
    app: ownerOf(gone[0]!.letter),
    entity: { type: 'consumer', id: consumer },
    details: {
      stream: gone[0]!.letter.stream,
      letters: gone.length,
      dlqSeqs: gone.map((stored) => stored.seq),
    },
  }));
  // Up to the last letter read, so each consumer's record names exactly the letters that went.
  const { purged } = await audit.run(purging, () => jsm.streams.purge(DLQ, { seq: last.seq + 1 }));
  print([{ purged }], json);
}

/** The app whose consumer gave up on the letter; its stream's app for a consumer of no app. */
function ownerOf(l: DeadLetter): string {
  const app = appOfConsumer(l.consumer) ?? appOfStream(l.stream);
  if (!app) throw new CliError(`dead letter of ${l.consumer} on ${l.stream}: no app owns it`);
  return app;
}

/** The tenant of the dead event (the default tenant when its envelope names none). */
function tenantOf(l: DeadLetter): string | null {
  const body = parseBody(l.body) as { tenantId?: unknown } | string;
  if (typeof body !== 'object' || body === null) return null;
  return typeof body.tenantId === 'string' ? body.tenantId : DEFAULT_TENANT;
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
