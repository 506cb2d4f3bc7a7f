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

/** A saga row as the summary columns select it. */
interface SummaryRow extends Omit<SagaSummary, 'state' | 'deadlineAt' | 'createdAt' | 'updatedAt'> {
  state: SagaState;
  deadlineAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** `updated_at` to the microsecond, for the cursor (a Date keeps milliseconds). */
  cursorAt: string;
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
    const conditions = filterConditions(principal, filter, p);
    if (!conditions) return { items: [], nextCursor: null };
    if (cursor) {
      const [at, id] = decodeCursor(cursor);
      conditions.push(`(updated_at, id) < (${p.add(at)}::timestamptz, ${p.add(id)}::uuid)`);
    }
    const rows = await this.dataSource.query<SummaryRow[]>(
      `SELECT ${SUMMARY_COLUMNS} FROM ${this.tables.sagas} s WHERE ${whereOf(conditions)}
        ORDER BY updated_at DESC, id DESC LIMIT ${p.add(limit + 1)}`,
      p.values,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(summaryOf),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  /** Every state with its count (zeros included), for the filter. */
  async counts(principal: Principal, filter: SagaFilter): Promise<SagaCounts> {
    const states = Object.fromEntries(SAGA_STATES.map((state) => [state, 0]));
    const p = new SqlParams();
    const conditions = filterConditions(principal, filter, p);
    if (conditions) {
      const rows = await this.dataSource.query<{ state: SagaState; count: number }[]>(
        `SELECT state, count(*)::int AS count FROM ${this.tables.sagas}
          WHERE ${whereOf(conditions)} GROUP BY state`,
        p.values,
      );
      for (const { state, count } of rows) states[state] = count;
    }
    return { states, total: Object.values(states).reduce((sum, n) => sum + n, 0) };
  }

  /** The ids of the sagas of the filter whose last transition is the oldest, oldest first. */
  async oldest(
    runner: Queryable,
    principal: Principal,
    filter: SagaFilter,
    limit: number,
  ): Promise<string[]> {
    const p = new SqlParams();
    const conditions = filterConditions(principal, filter, p);
    if (!conditions) return [];
    const rows = await runner.query(
      `SELECT id FROM ${this.tables.sagas} WHERE ${whereOf(conditions)}
        ORDER BY updated_at, id LIMIT ${p.add(limit)}`,
      p.values,
    );
    return (rows as { id: string }[]).map((row) => row.id);
  }

  /**
   * The sagas an id names: a saga or order id (the order id is also the saga's correlation id), a
   * customer id or a PaymentIntent id, newest first. Each is looked up by its own index.
   */
  async find(principal: Principal, id: string): Promise<SagaSearch> {
    const p = new SqlParams();
    const uuid = UUID.test(id) ? p.add(id.toLowerCase()) : undefined;
    const text = p.add(id);
    const matches: [SagaIdKind, string][] = [
      ...(uuid
        ? ([
            ['sagaId', `id = ${uuid}::uuid`],
            ['orderId', `order_id = ${uuid}::uuid`],
          ] as [SagaIdKind, string][])
        : []),
      ['customerId', `customer_id = ${text}`],
      ['paymentIntentId', `payment_intent_id = ${text}`],
    ];
    const tenant = principal.visibleTenant();
    const inTenant = tenant === undefined ? '' : ` AND tenant_id = ${p.add(tenant)}`;
    const rows = await this.dataSource.query<(SummaryRow & { matchedBy: SagaIdKind })[]>(
      `SELECT ${SUMMARY_COLUMNS}, CASE ${matches.map(([kind, where]) => `WHEN ${where} THEN '${kind}'`).join(' ')} END AS "matchedBy"
        FROM ${this.tables.sagas} s
        WHERE (${matches.map(([, where]) => where).join(' OR ')})${inTenant}
        ORDER BY updated_at DESC, id DESC LIMIT ${SEARCH_LIMIT}`,
      p.values,
    );
    return { items: rows.map((row) => ({ ...summaryOf(row), matchedBy: row.matchedBy })) };
  }

  /** One saga with its order, step log and audit trail; 404 outside the principal's tenants. */
  async show(principal: Principal, sagaId: string): Promise<SagaDetail> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const tenant = principal.visibleTenant();
      const [saga] = await manager.query<
        (SummaryRow & {
          correlationId: string;
          reservationId: string | null;
          orderCreatedAt: Date;
          totalMinor: number | null;
        })[]
      >(
        `SELECT ${SUMMARY_COLUMNS},
            s.correlation_id AS "correlationId", s.reservation_id AS "reservationId",
            o.created_at AS "orderCreatedAt", o.total_minor::float8 AS "totalMinor"
          FROM ${this.tables.sagas} s JOIN ${this.tables.orders} o ON o.id = s.order_id
          WHERE s.id = $1 AND ($2::text IS NULL OR s.tenant_id = $2)`,
        [sagaId, tenant ?? null],
      );
      if (!saga) throw new SagaNotFoundError(sagaId);
      const [lines, steps, audit] = await Promise.all([
        manager.query<{ sku: string; quantity: number; unitPriceMinor: number | null }[]>(
          `SELECT sku, quantity, unit_price_minor::float8 AS "unitPriceMinor"
            FROM ${this.tables.lines} WHERE order_id = $1 ORDER BY sku`,
          [saga.orderId],
        ),
        manager.query<(Omit<SagaDetail['steps'][number], 'at'> & { at: Date })[]>(
          `SELECT from_state AS "from", to_state AS "to", trigger, event_id AS "eventId", reason, at
            FROM ${this.tables.steps} WHERE saga_id = $1 ORDER BY id`,
          [sagaId],
        ),
        manager.query<(Omit<SagaAuditView, 'at'> & { at: Date })[]>(
          `SELECT at, actor, action, result, reason, details FROM ${this.tables.audit}
            WHERE tenant_id = $1 AND entity_id = ANY($2::text[]) ORDER BY id`,
          [saga.tenantId, [sagaId, saga.orderId]],
        ),
      ]);
      const step = WAITING_FOR[saga.state];
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
          lines,
          createdAt: saga.orderCreatedAt.toISOString(),
        },
        steps: steps.map((s) => ({ ...s, at: s.at.toISOString() })),
        audit: audit.map((a) => ({ ...a, at: a.at.toISOString() })),
      };
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The WHERE conditions of a filter in the principal's tenants, or undefined when it can match
 * nothing (a tenant the principal does not see).
 */
export function filterConditions(
  principal: Principal,
  filter: SagaFilter,
  p: SqlParams,
): string[] | undefined {
  const visible = principal.visibleTenant();
  if (visible !== undefined && filter.tenantId !== undefined && filter.tenantId !== visible)
    return undefined;
  const conditions: string[] = [];
  const tenant = visible ?? filter.tenantId;
  if (tenant !== undefined) conditions.push(`tenant_id = ${p.add(tenant)}`);
  if (filter.state !== undefined) conditions.push(`state = ${p.add(filter.state)}`);
  if (filter.reason !== undefined) conditions.push(`reason = ${p.add(filter.reason)}`);
  if (filter.customerId !== undefined) conditions.push(`customer_id = ${p.add(filter.customerId)}`);
  const cutoff =
    filter.olderThanMs === undefined
      ? undefined
      : `now() - make_interval(secs => ${p.add(filter.olderThanMs / 1000)}::float8)`;
  // Every saga that is not final waits under a deadline (the partial index sagas_due holds them).
  if (filter.stuck)
    conditions.push(
      `deadline_at IS NOT NULL AND (deadline_at <= now()${cutoff ? ` OR updated_at <= ${cutoff}` : ''})`,
    );
  else if (cutoff) conditions.push(`updated_at <= ${cutoff}`);
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
