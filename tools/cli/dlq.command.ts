import { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import {
  deadLetterAt,
  DeadLetterFilter,
  letterBody,
  OperationsActor,
  OperationsAudit,
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetters,
} from '@lib/operations';
import { print, progress } from './cli-io';

export async function dlqList(
  js: JetStreamClient,
  filter: DeadLetterFilter,
  json: boolean,
): Promise<void> {
  const rows = (await readDeadLetters(js, filter)).map(({ seq, letter: l }) => ({
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
  const { letter } = await deadLetterAt(jsm, seq);
  process.stdout.write(
    `${JSON.stringify({ seq, ...letter, body: letterBody(letter) }, null, 2)}\n`,
  );
}

/**
 * `dlq replay <seq>...` or `dlq replay --all [--consumer C] [--subject S]`: the letters back on
 * their original subjects (libs/operations: fresh message ids, the consumers' inboxes keep them
 * from applying twice), each audited with the app of its consumer.
 */
export async function dlqReplay(
  js: JetStreamClient,
  jsm: JetStreamManager,
  which: number[] | DeadLetterFilter,
  json: boolean,
  audit: OperationsAudit,
  by: OperationsActor,
): Promise<void> {
  const targets = Array.isArray(which)
    ? await Promise.all(which.map((seq) => deadLetterAt(jsm, seq)))
    : await readDeadLetters(js, which);
  const bar = progress(targets.length, 'replaying dead letters');
  const replayed = await replayDeadLetters(js, jsm, targets, audit, by, () => bar.tick());
  bar.done();
  print(
    replayed.map(({ seq, subject, stream, republishedAs }) => ({
      seq,
      subject,
      stream,
      republishedAs,
    })),
    json,
    'no dead letters',
  );
}

/** `dlq purge`: the dead letters there are now, one audit record per consumer. */
export async function dlqPurge(
  js: JetStreamClient,
  jsm: JetStreamManager,
  json: boolean,
  audit: OperationsAudit,
  by: OperationsActor,
): Promise<void> {
  print([{ purged: await purgeDeadLetters(js, jsm, audit, by) }], json);
}
