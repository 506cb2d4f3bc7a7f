import { JetStreamManager } from '@nats-io/jetstream';
import { streamForSubject } from '@lib/contracts';
import { durableName } from '@lib/messaging';
import { query } from './database';
import { eventually } from './wait';

/** Resolves once `app`'s durable consumer of `subject` has acked stream sequence `seq`. */
export async function untilHandled(
  jsm: JetStreamManager,
  app: string,
  subject: string,
  seq: number,
): Promise<void> {
  const stream = streamForSubject(subject).name;
  const consumer = durableName(app, subject);
  await eventually(
    async () => (await jsm.consumers.info(stream, consumer)).ack_floor.stream_seq >= seq,
    { what: `${consumer} to handle sequence ${seq}` },
  );
}

/**
 * Resolves once `app`'s durable consumer of `subject` holds nothing unacked or redelivered: a
 * dead-lettered message has stopped coming back (nats-server 2.9 redelivers one terminated with a
 * reason until max_deliver).
 */
export async function untilSettled(
  jsm: JetStreamManager,
  app: string,
  subject: string,
): Promise<void> {
  const stream = streamForSubject(subject).name;
  const consumer = durableName(app, subject);
  await eventually(
    async () => {
      const info = await jsm.consumers.info(stream, consumer);
      return info.num_ack_pending === 0 && info.num_redelivered === 0;
    },
    { what: `${consumer} to hold nothing unacked or redelivered` },
  );
}

/** Resolves once every event committed to the outbox of `schema` is on its stream. */
export async function untilRelayed(schema: string): Promise<void> {
  await eventually(
    async () => {
      const [row] = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`,
      );
      return row?.n === 0;
    },
    { what: `the ${schema} outbox to be relayed` },
  );
}
