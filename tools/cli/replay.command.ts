import {
  AckPolicy,
  JetStreamApiError,
  JetStreamClient,
  JetStreamManager,
} from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { OperationsActor, OperationsAudit, readRange, startOf, StreamRange } from '@lib/operations';
import { owningAppOfStream } from './cli-audit';
import { CliError, print, progress } from './cli-io';

/**
 * `replay --to-consumer`: a new durable consumer starting at the point, for an app (or an
 * operator) to read from. A consumer's start cannot be edited, so a replay is always a new one.
 */
export async function replayToConsumer(
  jsm: JetStreamManager,
  range: StreamRange,
  durable: string,
  json: boolean,
  audit: OperationsAudit,
  by: OperationsActor,
): Promise<void> {
  const start = startOf(range);
  // The server may quietly accept an add for a name in use: refuse it here, it is a mistake.
  const existing = await jsm.consumers.info(range.stream, durable).catch(() => undefined);
  if (existing) {
    throw new CliError(
      `consumer ${durable} already exists on ${range.stream}: choose another name or remove it (nats consumer rm)`,
    );
  }
  const { pending } = await audit.run(
    by,
    {
      action: 'stream.replay',
      app: owningAppOfStream(range.stream),
      entity: { type: 'consumer', id: durable },
      details: describeRange(range),
    },
    async () => {
      try {
        await jsm.consumers.add(range.stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: start.deliver_policy,
          ...(start.opt_start_seq === undefined ? {} : { opt_start_seq: start.opt_start_seq }),
          ...(start.opt_start_time === undefined ? {} : { opt_start_time: start.opt_start_time }),
          ...(range.subject ? { filter_subject: range.subject } : {}),
        });
      } catch (error) {
        if (error instanceof JetStreamApiError)
          throw new CliError(`cannot create consumer ${durable}: ${error.message}`);
        throw error;
      }
      return { pending: (await jsm.consumers.info(range.stream, durable)).num_pending };
    },
    (created) => ({ ...describeRange(range), pending: created.pending }),
  );
  print([{ stream: range.stream, consumer: durable, pending }], json);
}

/**
 * `replay --republish`: every message of the range published again on its subject with its
 * original event id. Inside the duplicate window the server drops it (counted as duplicate);
 * after it, the consumers' inboxes skip what they had already handled.
 */
export async function replayRepublish(
  js: JetStreamClient,
  jsm: JetStreamManager,
  range: StreamRange,
  json: boolean,
  audit: OperationsAudit,
  by: OperationsActor,
): Promise<void> {
  const { state } = await jsm.streams.info(range.stream);
  const counts = await audit.run(
    by,
    {
      action: 'stream.replay',
      app: owningAppOfStream(range.stream),
      entity: { type: 'stream', id: range.stream },
      details: describeRange(range),
    },
    async () => {
      const bar = progress(state.messages, `republishing ${range.stream}`);
      let republished = 0;
      let duplicates = 0;
      // Republished messages land in the stream being read: stop where it ended when we began.
      for await (const message of readRange(js, range, { lastSeq: state.last_seq })) {
        const headers = natsHeaders();
        for (const [key, values] of message.headers ?? [])
          for (const value of values) headers.append(key, value);
        const msgID = message.headers?.get('Nats-Msg-Id') || undefined;
        const ack = await js.publish(message.subject, message.data, {
          headers,
          ...(msgID ? { msgID } : {}),
        });
        if (ack.duplicate) duplicates++;
        else republished++;
        bar.tick();
      }
      bar.done();
      return { republished, duplicates };
    },
    (done) => ({ ...describeRange(range), ...done }),
  );
  print([{ stream: range.stream, ...counts }], json);
}

/** The range of a replay as its audit record states it. */
function describeRange(range: StreamRange): Record<string, unknown> {
  return {
    stream: range.stream,
    subject: range.subject ?? null,
    fromSeq: range.fromSeq ?? null,
    sinceMs: range.sinceMs ?? null,
  };
}
