import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type {
  SagaAuditView,
  SagaCounts,
  SagaDetail,
  SagaFilter,
  SagaIdKind,
  SagaPage,
  SagaSearch,
  SagaSummary,
} from '@lib/operator-api';
import { Queryable, SqlParams } from '@lib/persistence';
import { AuditRecord, InvalidRequestError, Principal } from '@lib/platform';
import { OrderLine } from '../orders/order-line.entity';
import { Order } from '../orders/order.entity';
import {
  operatorActionsIn,
  orderStatusOf,
  SAGA_STATES,
  SagaState,
} from '../order-saga/order-saga.state';
import { SagaStep } from '../order-saga/saga-step.entity';
import { Saga } from '../order-saga/saga.entity';
import { SagaNotFoundError } from './saga-operations.errors';

const SEARCH_LIMIT = 50;
/** Counting stops there: an operator needs "more than ten thousand", not the exact figure. */
const COUNT_CAP = 10_000;

/** A saga row as the summary columns select it. */
interface SummaryRow extends Omit<SagaSummary, 'state' | 'deadlineAt' | 'createdAt' | 'updatedAt'> {
  state: SagaState;
  deadlineAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** `updated_at` to the microsecond, for the cursor (a Date keeps milliseconds). */
  cursorAt: string;
}

/** One saga as `show` reads it: JSON columns carry their times as text. */
interface DetailRow extends SummaryRow {
  correlationId: string;
  reservationId: string | null;
  orderCreatedAt: Date;
  totalMinor: number | null;
  lines: SagaDetail['order']['lines'];
  steps: SagaDetail['steps'];
  audit: SagaAuditView[];
}

/** The summary of sagas `s`. */
const SUMMARY_COLUMNS = `s.id AS "sagaId", s.order_id AS "orderId", s.tenant_id AS "tenantId",
  s.customer_id AS "customerId", s.state, s.reason, s.version,
  s.amount_minor::float8 AS "amountMinor", s.currency, s.payment_intent_id AS "paymentIntentId",
  s.deadline_at AS "deadlineAt", s.created_at AS "createdAt", s.updated_at AS "updatedAt",
  to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt"`;

const CURSOR = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) ([0-9a-f-]{36})$/;

/** Which step a saga waits on in a state, and so which deadline it is under. */
const WAITING_FOR: Partial<Record<SagaState, 'stock' | 'payment' | 'compensation'>> = {
  STARTED: 'stock',
  STOCK_RESERVED: 'payment',
  PAYMENT_PENDING: 'payment',
  COMPENSATING: 'compensation',
};

/**
 * The operators' read model of the sagas: what Postgres knows (the events of a saga's conversation
 * are in NATS, for the CLI and the console to read). Every query is bounded by an index at a million
 * sagas (`saga-read-model.int-spec.ts` checks the plans): the list walks `(…, updated_at, id)`
 * backwards from its cursor, counts read an index only, a search looks each id up by its own index.
 */
@Injectable()
export class SagaReadModel {
  private readonly tables: Record<'sagas' | 'steps' | 'orders' | 'lines' | 'audit', string>;

  constructor(private readonly dataSource: DataSource) {
    const table = (entity: new () => unknown) => dataSource.getMetadata(entity).tablePath;
    this.tables = {
      sagas: table(Saga),
      steps: table(SagaStep),
      orders: table(Order),
      lines: table(OrderLine),
      audit: table(AuditRecord),
    };
  }

  async list(
    principal: Principal,
    { cursor, limit, ...filter }: SagaFilter & { cursor?: string; limit: number },
  ): Promise<SagaPage> {
    const p = new SqlParams();
    const conditions = this.filterConditions(principal, filter, p);
    if (!conditions) return { items: [], nextCursor: null };
    if (cursor) {
      const [at, id] = decodeCursor(cursor);
      conditions.push(`(s.updated_at, s.id) < (${p.add(at)}::timestamptz, ${p.add(id)}::uuid)`);
    }
    const rows = await this.dataSource.query<SummaryRow[]>(
      this.byLastTransition(SUMMARY_COLUMNS, conditions, filter, 'DESC', limit + 1, p),
      p.values,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(summaryOf),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  /**
   * Every state with its count (zeros included), for the filter. Each count stops at COUNT_CAP, so
   * it reads at most that many entries of an index, however many sagas a state holds.
   */
  async counts(principal: Principal, filter: SagaFilter): Promise<SagaCounts> {
    const states = Object.fromEntries(SAGA_STATES.map((state) => [state, 0]));
    const p = new SqlParams();
    const conditions = this.filterConditions(principal, { ...filter, state: undefined }, p);
    const counted = filter.state ? [filter.state] : SAGA_STATES;
    if (conditions) {
      const rows = await this.dataSource.query<{ state: SagaState; count: number }[]>(
        `SELECT c.state, (SELECT count(*) FROM (SELECT 1 FROM ${this.tables.sagas} s
            WHERE ${whereOf([...conditions, 's.state = c.state'])} LIMIT ${COUNT_CAP + 1}) AS found
          )::int AS count
          FROM unnest(${p.add(counted)}::text[]) AS c(state)`,
        p.values,
      );
      for (const { state, count } of rows) states[state] = count;
    }
    const capped = SAGA_STATES.filter((state) => states[state]! > COUNT_CAP);
    for (const state of capped) states[state] = COUNT_CAP;
    return { states, capped, cap: COUNT_CAP };
  }

  /** The ids of the sagas of the filter whose last transition is the oldest, oldest first. */
  async oldest(
    runner: Queryable,
    principal: Principal,
    filter: SagaFilter,
    limit: number,
  ): Promise<string[]> {
    const p = new SqlParams();
    const conditions = this.filterConditions(principal, filter, p);
    if (!conditions) return [];
    const rows = await runner.query(
      this.byLastTransition('s.id', conditions, filter, 'ASC', limit, p),
      p.values,
    );
    return (rows as { id: string }[]).map((row) => row.id);
  }

  /**
   * The sagas an id names: a saga or order id (the order id is also the saga's correlation id), a
   * customer id or a PaymentIntent id, newest first, each once (named by the first kind that
   * matched). Each kind is looked up by its own index.
   */
  async find(principal: Principal, id: string): Promise<SagaSearch> {
    const p = new SqlParams();
    const uuid = UUID.test(id) ? p.add(id.toLowerCase()) : undefined;
    const text = p.add(id);
    const matches: [SagaIdKind, string][] = [
      ...(uuid
        ? ([
            ['sagaId', `s.id = ${uuid}::uuid`],
            ['orderId', `s.order_id = ${uuid}::uuid`],
          ] as [SagaIdKind, string][])
        : []),
      ['customerId', this.ofCustomer(text)],
      ['paymentIntentId', `s.payment_intent_id = ${text}`],
    ];
    const tenant = principal.visibleTenant();
    const inTenant = tenant === undefined ? '' : ` AND s.tenant_id = ${p.add(tenant)}`;
    const rows = await this.dataSource.query<(SummaryRow & { matchedBy: SagaIdKind })[]>(
      `SELECT * FROM (${matches
        .map(
          ([kind, where]) =>
            `(SELECT ${SUMMARY_COLUMNS}, '${kind}' AS "matchedBy" FROM ${this.tables.sagas} s
              WHERE ${where}${inTenant} LIMIT ${SEARCH_LIMIT})`,
        )
        .join(' UNION ALL ')}) AS found
        ORDER BY "cursorAt" DESC, "sagaId" DESC`,
      p.values,
    );
    const kinds = matches.map(([kind]) => kind);
    const first = new Map<string, SummaryRow & { matchedBy: SagaIdKind }>();
    for (const row of rows) {
      const seen = first.get(row.sagaId);
      if (!seen || kinds.indexOf(row.matchedBy) < kinds.indexOf(seen.matchedBy))
        first.set(row.sagaId, row);
    }
    return {
      items: [...first.values()]
        .slice(0, SEARCH_LIMIT)
        .map((row) => ({ ...summaryOf(row), matchedBy: row.matchedBy })),
    };
  }

  /**
   * One saga with its order, step log and audit trail, read by one statement (one snapshot); 404
   * outside the principal's tenants.
   */
  async show(principal: Principal, sagaId: string): Promise<SagaDetail> {
    const { sagas, orders, lines, steps, audit } = this.tables;
    const [saga] = await this.dataSource.query<DetailRow[]>(
      `SELECT ${SUMMARY_COLUMNS}, s.correlation_id AS "correlationId",
          s.reservation_id AS "reservationId", o.created_at AS "orderCreatedAt",
          o.total_minor::float8 AS "totalMinor",
          (SELECT coalesce(json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity,
              'unitPriceMinor', l.unit_price_minor) ORDER BY l.sku), '[]')
            FROM ${lines} l WHERE l.order_id = s.order_id) AS lines,
          (SELECT coalesce(json_agg(json_build_object('from', st.from_state, 'to', st.to_state,
              'trigger', st.trigger, 'eventId', st.event_id, 'reason', st.reason, 'at', st.at)
              ORDER BY st.id), '[]')
            FROM ${steps} st WHERE st.saga_id = s.id) AS steps,
          (SELECT coalesce(json_agg(json_build_object('at', a.at, 'actor', a.actor,
              'action', a.action, 'result', a.result, 'reason', a.reason, 'details', a.details)
              ORDER BY a.id), '[]')
            FROM ${audit} a
            WHERE a.tenant_id = s.tenant_id AND a.entity_id IN (s.id::text, s.order_id::text)) AS audit
        FROM ${sagas} s JOIN ${orders} o ON o.id = s.order_id
        WHERE s.id = $1 AND ($2::text IS NULL OR s.tenant_id = $2)`,
      [sagaId, principal.visibleTenant() ?? null],
    );
    if (!saga) throw new SagaNotFoundError(sagaId);
    const step = WAITING_FOR[saga.state];
    const iso = (at: string) => new Date(at).toISOString();
    return {
      ...summaryOf(saga),
      correlationId: saga.correlationId,
      reservationId: saga.reservationId,
      // Tracing stores no trace context with the saga yet.
      traceId: null,
      waitingFor: step ? { step, deadlineAt: saga.deadlineAt?.toISOString() ?? null } : null,
      actions: operatorActionsIn(saga.state),
      order: {
        status: orderStatusOf(saga.state),
        currency: saga.currency,
        totalMinor: saga.totalMinor,
        lines: saga.lines,
        createdAt: saga.orderCreatedAt.toISOString(),
      },
      steps: saga.steps.map((s) => ({ ...s, at: iso(s.at) })),
      audit: saga.audit.map((a) => ({ ...a, at: iso(a.at) })),
    };
  }

  private filterConditions(
    principal: Principal,
    filter: SagaFilter,
    p: SqlParams,
  ): string[] | undefined {
    return filterConditions(principal, filter, p, (customerId) => this.ofCustomer(customerId));
  }

  /**
   * A customer's sagas, found through their orders: the index is on `orders`, whose rows are
   * written once and updated in place (HOT), not on `sagas`, where every transition would
   * maintain it.
   */
  private ofCustomer(customerId: string): string {
    return `s.order_id IN (SELECT o.id FROM ${this.tables.orders} o WHERE o.customer_id = ${customerId})`;
  }

  /**
   * `SELECT columns` of the sagas of `conditions` by their last transition, newest (DESC) or
   * oldest (ASC) first. A filter with a state, a reason, a customer or `stuck` walks the index it
   * names; without, one branch per state walks `(tenant_id, state, updated_at, id)` or
   * `(state, updated_at, id)` and Postgres merges them in order. There is no index on
   * `(updated_at, id)` alone (nor per tenant): each index on `sagas` costs every transition a
   * write (a transition changes `state`, so no update is HOT).
   */
  private byLastTransition(
    columns: string,
    conditions: string[],
    filter: SagaFilter,
    order: 'ASC' | 'DESC',
    limit: number,
    p: SqlParams,
  ): string {
    const select = (where: string[]) =>
      `SELECT ${columns}, s.updated_at AS sort_at, s.id AS sort_id FROM ${this.tables.sagas} s
        WHERE ${whereOf(where)} ORDER BY s.updated_at ${order}, s.id ${order} LIMIT ${p.add(limit)}`;
    if (filter.state || filter.reason || filter.customerId || filter.stuck)
      return select(conditions);
    const branches = SAGA_STATES.map(
      (state) => `(${select([...conditions, `s.state = ${p.add(state)}`])})`,
    );
    return `SELECT * FROM (${branches.join(' UNION ALL ')}) AS merged
      ORDER BY sort_at ${order}, sort_id ${order} LIMIT ${p.add(limit)}`;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The WHERE conditions of a filter in the principal's tenants, or undefined when it can match
 * nothing (a tenant the principal does not see).
 */
function filterConditions(
  principal: Principal,
  filter: SagaFilter,
  p: SqlParams,
  ofCustomer: (customerId: string) => string,
): string[] | undefined {
  const visible = principal.visibleTenant();
  if (visible !== undefined && filter.tenantId !== undefined && filter.tenantId !== visible)
    return undefined;
  const conditions: string[] = [];
  const tenant = visible ?? filter.tenantId;
  if (tenant !== undefined) conditions.push(`s.tenant_id = ${p.add(tenant)}`);
  if (filter.state !== undefined) conditions.push(`s.state = ${p.add(filter.state)}`);
  if (filter.reason !== undefined) conditions.push(`s.reason = ${p.add(filter.reason)}`);
  if (filter.customerId !== undefined) conditions.push(ofCustomer(p.add(filter.customerId)));
  const cutoff =
    filter.olderThanMs === undefined
      ? undefined
      : `now() - make_interval(secs => ${p.add(filter.olderThanMs / 1000)}::float8)`;
  // Every saga that is not final waits under a deadline (the partial index sagas_due holds them).
  if (filter.stuck)
    conditions.push(
      `s.deadline_at IS NOT NULL AND (s.deadline_at <= now()${cutoff ? ` OR s.updated_at <= ${cutoff}` : ''})`,
    );
  else if (cutoff) conditions.push(`s.updated_at <= ${cutoff}`);
  return conditions;
}

function whereOf(conditions: string[]): string {
  return conditions.length > 0 ? conditions.join(' AND ') : 'true';
}

function summaryOf(row: SummaryRow): SagaSummary {
  return {
    sagaId: row.sagaId,
    orderId: row.orderId,
    tenantId: row.tenantId,
    customerId: row.customerId,
    state: row.state,
    reason: row.reason,
    version: row.version,
    amountMinor: row.amountMinor,
    currency: row.currency,
    paymentIntentId: row.paymentIntentId,
    deadlineAt: row.deadlineAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function encodeCursor(row: SummaryRow): string {
  return Buffer.from(`${row.cursorAt} ${row.sagaId}`).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new InvalidRequestError('cursor must be a nextCursor of this list');
  return [match[1]!, match[2]!];
}
