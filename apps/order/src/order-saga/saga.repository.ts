import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventEnvelope, subjectFor } from '@lib/contracts';
import { Inbox, InboxEntry, Outbox } from '@lib/messaging';
import { traceContextOf } from '@lib/observability';
import { Queryable, queryPrepared, SqlParams } from '@lib/persistence';
import { AuditEntry, AuditLog, Scope } from '@lib/platform';
import { OrderLine } from '../orders/order-line.entity';
import { Order } from '../orders/order.entity';
import { SagaRecord } from './order-saga.replies';
import { SagaState, SagaTransition } from './order-saga.state';
import { SagaStep } from './saga-step.entity';
import { Saga } from './saga.entity';

/** Another transition of the same saga committed first: retry against the new version. */
export class SagaConcurrencyError extends Error {
  override readonly name = 'SagaConcurrencyError';
}

/** Everything one transition writes, applied to the saga at `saga.version`. */
export interface SagaChange {
  saga: SagaRecord;
  transition: SagaTransition;
  changes: Pick<Saga, 'state' | 'deadlineAt' | 'reason' | 'updatedAt'> &
    Partial<Pick<Saga, 'reservationId' | 'amountMinor' | 'currency' | 'paymentIntentId'>>;
  steps: Pick<SagaStep, 'fromState' | 'toState' | 'trigger' | 'eventId' | 'reason'>[];
  /** Catalogue prices of the order's lines and its total, once stock is reserved. */
  prices?: { lines: { sku: string; unitPriceMinor: number }[]; totalMinor: number };
  events: EventEnvelope[];
  /** The reply that caused the transition, recorded so it has no second effect. */
  inbox?: InboxEntry;
}

/**
 * A new order and what starts its saga: lines, saga id and deadline, `order.created`, and the audit
 * record of its placing.
 */
export interface SagaStart {
  order: Omit<Order, 'lines' | 'totalMinor'>;
  lines: { sku: string; quantity: number }[];
  saga: Pick<Saga, 'id' | 'deadlineAt'>;
  created: EventEnvelope;
  audit: AuditEntry;
}

/**
 * An SQL condition on a placed order (`order`: its columns `order_id`, `tenant_id`, `customer_id`,
 * `idempotency_key`, `currency`) and the placed lines (`lines`: `order_id`, `sku`, `quantity`); an
 * order is skipped only when it is true (not when it is null).
 */
export type SkipCondition = (order: string, lines: string) => string;

const SAGA_COLUMNS = `id, order_id AS "orderId", customer_id AS "customerId", state, version,
  deadline_at AS "deadlineAt", reservation_id AS "reservationId",
  amount_minor::float8 AS "amountMinor", currency, payment_intent_id AS "paymentIntentId",
  correlation_id AS "correlationId",
  tenant_id AS "tenantId", reason, created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * The saga's hot path in hand-written SQL: one statement loads sagas, and one statement persists
 * transitions (version-checked saga rows, step log, prices, outbox events and inbox records), atomic
 * as a statement is, so a batch of transitions costs two round trips and one commit.
 */
@Injectable()
export class SagaRepository {
  private readonly tables: Record<'sagas' | 'steps' | 'orders' | 'lines', string>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly audit: AuditLog,
  ) {
    const table = (entity: new () => unknown) => dataSource.getMetadata(entity).tablePath;
    this.tables = {
      sagas: table(Saga),
      steps: table(SagaStep),
      orders: table(Order),
      lines: table(OrderLine),
    };
  }

  /**
   * New orders, each with its lines, its saga in STARTED, the first step, `order.created` and its
   * audit record, in one statement, except the orders for which `skipped` holds: nothing of theirs
   * is written. Answers the ids of the orders it started. A key that another instance takes while
   * this statement runs fails it with a unique violation, writing nothing.
   */
  async start(starts: SagaStart[], skipped: SkipCondition): Promise<Set<string>> {
    const p = new SqlParams();
    const column = (value: (start: SagaStart) => unknown, type: string) =>
      p.array(starts, value, type);
    const lines = starts.flatMap(({ order, lines }) =>
      lines.map((line) => ({ ...line, orderId: order.id })),
    );
    const startedWith = { cte: '"order"', keys: starts.map((s) => s.order.id) };
    const audit = this.audit.insert(
      starts.map((s) => s.audit),
      p,
      startedWith,
    );
    const events = this.outbox.insert(
      starts.map((s) => s.created),
      p,
      startedWith,
    );
    const rows = await queryPrepared<{ id: string }[]>(
      this.dataSource,
      `WITH placed AS (SELECT * FROM unnest(${column((s) => s.order.id, 'uuid')},
            ${column((s) => s.order.customerId, 'text')}, ${column((s) => s.order.currency, 'text')},
            ${column((s) => s.order.tenantId, 'text')}, ${column((s) => s.order.idempotencyKey, 'text')},
            ${column((s) => s.order.requestHash, 'text')}, ${column((s) => s.order.createdAt, 'timestamptz')},
            ${column((s) => s.saga.id, 'uuid')}, ${column((s) => s.saga.deadlineAt, 'timestamptz')},
            ${column((s) => subjectFor(s.created.eventName, s.created.eventVersion), 'text')},
            ${column((s) => s.created.eventId, 'uuid')}, ${column((s) => traceContextOf(s.created), 'jsonb')})
          AS s(order_id, customer_id, currency, tenant_id, idempotency_key, request_hash, created_at,
            saga_id, deadline_at, trigger, event_id, trace_context)),
        placed_lines AS (SELECT * FROM unnest(${p.array(lines, (l) => l.orderId, 'uuid')},
            ${p.array(lines, (l) => l.sku, 'text')}, ${p.array(lines, (l) => l.quantity, 'int')})
          AS l(order_id, sku, quantity)),
        started AS (SELECT * FROM placed s WHERE (${skipped('s', 'placed_lines')}) IS NOT TRUE),
        "order" AS (INSERT INTO ${this.tables.orders}
          (id, customer_id, currency, tenant_id, idempotency_key, request_hash, created_at)
          SELECT order_id, customer_id, currency, tenant_id, idempotency_key, request_hash, created_at
            FROM started
          RETURNING id),
        lines AS (INSERT INTO ${this.tables.lines} (order_id, sku, quantity)
          SELECT l.order_id, l.sku, l.quantity FROM placed_lines l JOIN started USING (order_id)),
        -- The order is the conversation: every event of this saga carries its id.
        saga AS (INSERT INTO ${this.tables.sagas} (id, order_id, customer_id, state, version,
            deadline_at, currency, correlation_id, tenant_id, created_at, updated_at, trace_context)
          SELECT saga_id, order_id, customer_id, 'STARTED', 1, deadline_at, currency, order_id::text,
            tenant_id, created_at, created_at, trace_context
            FROM started),
        step AS (INSERT INTO ${this.tables.steps} (saga_id, from_state, to_state, trigger, event_id)
          SELECT saga_id, NULL, 'STARTED', trigger, event_id FROM started),
        audit AS (${audit}),
        events AS (${events})
      SELECT id FROM "order"`,
      p.values,
    );
    const started = new Set(rows.map((row) => row.id));
    this.outbox.publishOnCommit(
      this.dataSource,
      starts.filter((s) => started.has(s.order.id)).map((s) => s.created),
    );
    return started;
  }

  /**
   * The saga of an order in `scope`: of its tenant, and of its customer when `scope.ownerId` is set.
   * Another tenant's or customer's order is as absent as one that does not exist.
   */
  async findByOrder(
    orderId: string,
    scope: Scope,
    runner: Queryable = this.dataSource,
    withLines = false,
  ): Promise<SagaRecord | undefined> {
    const [saga] = await queryPrepared<SagaRecord[]>(
      runner,
      `SELECT ${SAGA_COLUMNS}, ${this.orderedLines('$4::uuid[]')} FROM ${this.tables.sagas} s
        WHERE order_id = $1 AND tenant_id = $2 AND ($3::text IS NULL OR customer_id = $3)`,
      [orderId, scope.tenantId, scope.ownerId ?? null, withLines ? [orderId] : []],
    );
    return saga;
  }

  /**
   * The sagas of these orders, in one statement (those that exist, in no particular order), with
   * the ordered lines of those in `linesOf` (the replies that are reservations, checked against
   * them). For the participants' replies, whose right to name an order NATS decides, not a
   * principal; `checkReply` decides whether to believe them.
   */
  findByOrders(orderIds: string[], linesOf: string[] = []): Promise<SagaRecord[]> {
    return queryPrepared(
      this.dataSource,
      `SELECT ${SAGA_COLUMNS}, ${this.orderedLines('$2::uuid[]')} FROM ${this.tables.sagas} s
        WHERE order_id = ANY($1::uuid[])`,
      [orderIds, linesOf],
    );
  }

  /**
   * Sagas by id, in one statement (those that exist, in no particular order), with their ordered
   * lines when `withLines` (a retry of the stock step sends them again). For operator actions, whose
   * caller checks the tenant.
   */
  findByIds(
    sagaIds: string[],
    withLines: boolean,
    runner: Queryable = this.dataSource,
  ): Promise<SagaRecord[]> {
    return queryPrepared(
      runner,
      `SELECT ${SAGA_COLUMNS}, ${this.orderedLines('$2::uuid[]', 'id')} FROM ${this.tables.sagas} s
        WHERE id = ANY($1::uuid[])`,
      [sagaIds, withLines ? sagaIds : []],
    );
  }

  /**
   * For each saga, the causation of the command it emitted on last entering `state`: the event id
   * of that step (null when nothing caused it but a deadline, a person, or the order's placing).
   */
  async causationsOf(
    sagaIds: string[],
    state: SagaState,
    runner: Queryable,
  ): Promise<Map<string, string | null>> {
    const steps = await queryPrepared<{ sagaId: string; causation: string | null }[]>(
      runner,
      `SELECT DISTINCT ON (saga_id) saga_id AS "sagaId",
          CASE WHEN from_state IS NULL THEN NULL ELSE event_id END AS causation
        FROM ${this.tables.steps}
        WHERE saga_id = ANY($1::uuid[]) AND to_state = $2 AND from_state IS DISTINCT FROM to_state
        ORDER BY saga_id, id DESC`,
      [sagaIds, state],
    );
    return new Map(steps.map((step) => [step.sagaId, step.causation]));
  }

  /** The order's lines, only for the sagas in `ids` (CASE keeps the others from reading them). */
  private orderedLines(ids: string, column = 'order_id'): string {
    return `CASE WHEN s.${column} = ANY(${ids}) THEN (
        SELECT json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity))
          FROM ${this.tables.lines} l WHERE l.order_id = s.order_id) END AS "orderedLines"`;
  }

  /** Sagas whose deadline has passed, soonest first, with the trace each started in. */
  findDue(limit: number): Promise<Saga[]> {
    return queryPrepared(
      this.dataSource,
      `SELECT ${SAGA_COLUMNS}, trace_context AS "traceContext" FROM ${this.tables.sagas}
        WHERE deadline_at <= now() ORDER BY deadline_at LIMIT $1`,
      [limit],
    );
  }

  /**
   * Writes, in one statement, each change whose saga is still at the version it was loaded with,
   * and answers the ids of the sagas written; a change of a saga that has moved on writes nothing.
   * 'duplicate' when an inbox already held a cause: the statement then writes nothing at all.
   * At most one change per saga. `runner`: the transaction to write in, when the caller has one.
   */
  async persist(
    changes: SagaChange[],
    runner: Queryable = this.dataSource,
  ): Promise<Set<string> | 'duplicate'> {
    const p = new SqlParams();
    const rows = changes.map((change) => ({ ...change.changes, id: change.saga.id }));
    const steps = changes.flatMap(({ saga, steps }) =>
      steps.map((s) => ({ ...s, sagaId: saga.id })),
    );
    const priced = changes.filter((change) => change.prices);
    const lines = priced.flatMap(({ saga, prices }) =>
      prices!.lines.map((l) => ({ ...l, orderId: saga.orderId })),
    );
    const events = changes.flatMap(({ saga, events }) =>
      events.map((event) => ({ event, sagaId: saga.id })),
    );
    const inboxed = changes.filter((change) => change.inbox);
    const writes = [
      `saga AS (UPDATE ${this.tables.sagas} s SET version = s.version + 1, state = c.state,
        deadline_at = c.deadline_at, reason = c.reason, updated_at = c.updated_at,
        reservation_id = coalesce(c.reservation_id, s.reservation_id),
        amount_minor = coalesce(c.amount_minor, s.amount_minor),
        currency = coalesce(c.currency, s.currency),
        payment_intent_id = coalesce(c.payment_intent_id, s.payment_intent_id)
        FROM unnest(${p.array(rows, (x) => x.id, 'uuid')}, ${p.array(changes, (x) => x.saga.version, 'int')},
          ${p.array(rows, (x) => x.state, 'text')}, ${p.array(rows, (x) => x.deadlineAt, 'timestamptz')},
          ${p.array(rows, (x) => x.reason, 'text')}, ${p.array(rows, (x) => x.updatedAt, 'timestamptz')},
          ${p.array(rows, (x) => x.reservationId, 'uuid')}, ${p.array(rows, (x) => x.amountMinor, 'bigint')},
          ${p.array(rows, (x) => x.currency, 'text')}, ${p.array(rows, (x) => x.paymentIntentId, 'text')})
          AS c(id, version, state, deadline_at, reason, updated_at, reservation_id, amount_minor, currency,
            payment_intent_id)
        WHERE s.id = c.id AND s.version = c.version RETURNING s.id, s.order_id)`,
      `steps AS (INSERT INTO ${this.tables.steps}
        (saga_id, from_state, to_state, trigger, event_id, reason)
        SELECT s.saga_id, s.from_state, s.to_state, s.trigger, s.event_id, s.reason FROM unnest(
          ${p.array(steps, (s) => s.sagaId, 'uuid')}, ${p.array(steps, (s) => s.fromState, 'text')},
          ${p.array(steps, (s) => s.toState, 'text')}, ${p.array(steps, (s) => s.trigger, 'text')},
          ${p.array(steps, (s) => s.eventId, 'uuid')}, ${p.array(steps, (s) => s.reason, 'text')})
          WITH ORDINALITY AS s(saga_id, from_state, to_state, trigger, event_id, reason, n)
        WHERE s.saga_id IN (SELECT id FROM saga)
        -- The log is read in id order: ids follow the path.
        ORDER BY s.n)`,
    ];
    if (priced.length > 0) {
      writes.push(
        `lines AS (UPDATE ${this.tables.lines} l SET unit_price_minor = priced.price
          FROM saga, unnest(${p.array(lines, (l) => l.orderId, 'uuid')},
            ${p.array(lines, (l) => l.sku, 'text')}, ${p.array(lines, (l) => l.unitPriceMinor, 'bigint')})
            AS priced(order_id, sku, price)
          WHERE saga.order_id = priced.order_id AND l.order_id = priced.order_id AND l.sku = priced.sku)`,
        `total AS (UPDATE ${this.tables.orders} o SET total_minor = t.total
          FROM saga, unnest(${p.array(priced, (x) => x.saga.orderId, 'uuid')},
            ${p.array(priced, (x) => x.prices!.totalMinor, 'bigint')}) AS t(order_id, total)
          WHERE saga.order_id = t.order_id AND o.id = t.order_id)`,
      );
    }
    if (events.length > 0) {
      const insert = this.outbox.insert(
        events.map((x) => x.event),
        p,
        { cte: 'saga', keys: events.map((x) => x.sagaId) },
      );
      writes.push(`events AS (${insert})`);
    }
    if (inboxed.length > 0) {
      const insert = this.inbox.insert(
        inboxed.map((x) => x.inbox!),
        p,
        { cte: 'saga', keys: inboxed.map((x) => x.saga.id) },
      );
      writes.push(`inbox AS (${insert})`);
    }
    try {
      const written: { id: string }[] = await queryPrepared(
        runner,
        `WITH ${writes.join(',\n')} SELECT id FROM saga`,
        p.values,
      );
      const ids = new Set(written.map((row) => row.id));
      this.outbox.publishOnCommit(
        runner,
        events.filter((x) => ids.has(x.sagaId)).map((x) => x.event),
      );
      return ids;
    } catch (error) {
      if (this.inbox.isDuplicate(error)) return 'duplicate';
      throw error;
    }
  }

  /** Records a reply that changes nothing (late or duplicate), so it is skipped when it comes again. */
  recordIgnored(inbox: InboxEntry): Promise<boolean> {
    return this.inbox.record(this.dataSource.manager, inbox);
  }
}
