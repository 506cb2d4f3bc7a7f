import { JetStreamClient } from '@nats-io/jetstream';
import { Client } from 'pg';
import { TraceCarrier, traceIdOf } from '@lib/observability';
import { sagaConversation } from '@lib/operations';
import { quoteIdentifier } from '@lib/persistence';
import { FINAL_STATES, SagaState } from '../../apps/order/src/order-saga/order-saga.state';
import { orderPersistence } from '../../apps/order/src/persistence';
import { NotFoundError, print } from './cli-io';

const SCHEMA = quoteIdentifier(orderPersistence.schema);

interface SagaRow {
  id: string;
  order_id: string;
  state: string;
  version: number;
  reason: string | null;
  deadline_at: Date | null;
  correlation_id: string;
  created_at: Date;
  updated_at: Date;
  trace_context: TraceCarrier | null;
}

/**
 * `saga show <orderId|sagaId>`: state, the id of the trace the order started (when tracing was on),
 * step log, and every event of its conversation in order.
 */
export async function sagaShow(
  db: Client,
  js: JetStreamClient,
  id: string,
  json: boolean,
): Promise<void> {
  const { rows } = await db.query<SagaRow>(
    `SELECT * FROM ${SCHEMA}.sagas WHERE id::text = $1 OR order_id::text = $1`,
    [id],
  );
  const saga = rows[0];
  if (!saga) throw new NotFoundError(`no saga with id or order id ${id}`);
  const steps = (
    await db.query<{
      at: Date;
      from_state: string | null;
      to_state: string;
      trigger: string;
      reason: string | null;
    }>(
      `SELECT at, from_state, to_state, trigger, reason FROM ${SCHEMA}.saga_steps WHERE saga_id = $1 ORDER BY id`,
      [saga.id],
    )
  ).rows;
  // Shared with the console's timeline (libs/operations).
  const { events } = await sagaConversation(js, {
    correlationId: saga.correlation_id,
    startedAt: saga.created_at,
    endedAt: FINAL_STATES.includes(saga.state as SagaState) ? saga.updated_at : null,
  });
  if (json) {
    const traceId = traceIdOf(saga.trace_context);
    const shown = events.map(({ stream, seq, event }) => ({ stream, seq, event }));
    process.stdout.write(`${JSON.stringify({ saga, traceId, steps, events: shown }, null, 2)}\n`);
    return;
  }
  print(
    [
      {
        saga: saga.id,
        order: saga.order_id,
        state: saga.state,
        version: saga.version,
        reason: saga.reason,
        deadline: saga.deadline_at?.toISOString(),
        trace: traceIdOf(saga.trace_context),
      },
    ],
    false,
  );
  process.stdout.write('\nsteps\n');
  print(
    steps.map((s) => ({
      at: s.at.toISOString(),
      from: s.from_state,
      to: s.to_state,
      trigger: s.trigger,
      reason: s.reason,
    })),
    false,
  );
  process.stdout.write('\nevents\n');
  print(
    events.map(({ stream, seq, event }) => ({
      occurredAt: event.occurredAt,
      stream,
      seq,
      event: `${event.eventName}.v${event.eventVersion}`,
      eventId: event.eventId,
    })),
    false,
  );
}

/** `sagas stuck --older-than 5m`: unfinished sagas that have not moved for that long. */
export async function sagasStuck(db: Client, olderThanMs: number, json: boolean): Promise<void> {
  const { rows } = await db.query<SagaRow>(
    `SELECT * FROM ${SCHEMA}.sagas
      WHERE deadline_at IS NOT NULL AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY updated_at LIMIT 1000`,
    [olderThanMs],
  );
  print(
    rows.map((s) => ({
      saga: s.id,
      order: s.order_id,
      state: s.state,
      updatedAt: s.updated_at.toISOString(),
      deadline: s.deadline_at?.toISOString(),
    })),
    json,
    'no stuck sagas',
  );
}
