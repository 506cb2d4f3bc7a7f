import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventEnvelope, subjectFor } from '@lib/contracts';
import { Inbox, InboxEntry, Outbox } from '@lib/messaging';
import { queryPrepared, SqlParams } from '@lib/persistence';
import { OrderLine } from '../orders/order-line.entity';
import { Order } from '../orders/order.entity';
import { SagaStep } from './saga-step.entity';
import { Saga } from './saga.entity';

/** Another transition of the same saga committed first: retry against the new version. */
export class SagaConcurrencyError extends Error {
  override readonly name = 'SagaConcurrencyError';
}

/** Everything one transition writes, applied to the saga at `saga.version`. */
export interface SagaChange {
  saga: Saga;
  changes: Pick<Saga, 'state' | 'deadlineAt' | 'reason' | 'updatedAt'> &
    Partial<Pick<Saga, 'reservationId' | 'amountMinor' | 'currency'>>;
  steps: Pick<SagaStep, 'fromState' | 'toState' | 'trigger' | 'eventId' | 'reason'>[];
  /** Catalogue prices of the order's lines and its total, once stock is reserved. */
  prices?: { lines: { sku: string; unitPriceMinor: number }[]; totalMinor: number };
  events: EventEnvelope[];
  /** The reply that caused the transition, recorded so it has no second effect. */
  inbox?: InboxEntry;
}

const SAGA_COLUMNS = `id, order_id AS "orderId", state, version, deadline_at AS "deadlineAt",
  reservation_id AS "reservationId", amount_minor::float8 AS "amountMinor", currency,
  correlation_id AS "correlationId", tenant_id AS "tenantId", reason,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * The saga's hot path in hand-written SQL: one statement loads a saga, and one statement persists a
 * transition (version-checked saga row, step log, prices, outbox events and inbox record), atomic
 * as a statement is, so a transition costs two round trips and one commit.
 */
@Injectable()
export class SagaRepository {
  private readonly tables: Record<'sagas' | 'steps' | 'orders' | 'lines', string>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
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
   * A new order with its lines, its saga in STARTED, the first step and `order.created`, in one
   * statement. A reused idempotency key fails it with a unique violation, writing nothing.
   */
  async start(
    order: Omit<Order, 'lines' | 'totalMinor'>,
    lines: { sku: string; quantity: number }[],
    saga: Pick<Saga, 'id' | 'deadlineAt'>,
    created: EventEnvelope,
  ): Promise<void> {
    const p = new SqlParams();
    const orderId = `${p.add(order.id)}::uuid`;
    const sagaId = `${p.add(saga.id)}::uuid`;
    const currency = `${p.add(order.currency)}::text`;
    const tenantId = `${p.add(order.tenantId)}::text`;
    const createdAt = `${p.add(order.createdAt)}::timestamptz`;
    await queryPrepared(
      this.dataSource,
      `WITH "order" AS (INSERT INTO ${this.tables.orders}
          (id, customer_id, currency, tenant_id, idempotency_key, request_hash, created_at)
          VALUES (${orderId}, ${p.add(order.customerId)}, ${currency}, ${tenantId},
            ${p.add(order.idempotencyKey)}, ${p.add(order.requestHash)}, ${createdAt})),
        lines AS (INSERT INTO ${this.tables.lines} (order_id, sku, quantity)
          SELECT ${orderId}, * FROM unnest(${p.add(lines.map((l) => l.sku))}::text[],
            ${p.add(lines.map((l) => l.quantity))}::int[])),
        -- The order is the conversation: every event of this saga carries its id.
        saga AS (INSERT INTO ${this.tables.sagas} (id, order_id, state, version, deadline_at,
            currency, correlation_id, tenant_id, created_at, updated_at)
          VALUES (${sagaId}, ${orderId}, 'STARTED', 1, ${p.add(saga.deadlineAt)}::timestamptz,
            ${currency}, ${orderId}::text, ${tenantId}, ${createdAt}, ${createdAt})),
        step AS (INSERT INTO ${this.tables.steps} (saga_id, from_state, to_state, trigger, event_id)
          VALUES (${sagaId}, NULL, 'STARTED', ${p.add(subjectFor(created.eventName, created.eventVersion))},
            ${p.add(created.eventId)}::uuid))
      ${this.outbox.insert([created], p)}`,
      p.values,
    );
  }

  async findByOrder(orderId: string): Promise<Saga | undefined> {
    const rows: Saga[] = await queryPrepared(
      this.dataSource,
      `SELECT ${SAGA_COLUMNS} FROM ${this.tables.sagas} WHERE order_id = $1`,
      [orderId],
    );
    return rows[0];
  }

  /** Sagas whose deadline has passed, soonest first. */
  findDue(limit: number): Promise<Saga[]> {
    return queryPrepared(
      this.dataSource,
      `SELECT ${SAGA_COLUMNS} FROM ${this.tables.sagas}
        WHERE deadline_at <= now() ORDER BY deadline_at LIMIT $1`,
      [limit],
    );
  }

  /**
   * Writes the change if the saga is still at the version it was loaded with, else throws
   * SagaConcurrencyError. 'duplicate' when the inbox already held the cause. Either way of failing,
   * nothing is written.
   */
  async persist({
    saga,
    changes,
    steps,
    prices,
    events,
    inbox,
  }: SagaChange): Promise<'applied' | 'duplicate'> {
    const p = new SqlParams();
    const writes = [
      `saga AS (UPDATE ${this.tables.sagas} SET version = version + 1,
        state = ${p.add(changes.state)}::text, deadline_at = ${p.add(changes.deadlineAt)}::timestamptz,
        reason = ${p.add(changes.reason)}::text, updated_at = ${p.add(changes.updatedAt)}::timestamptz,
        reservation_id = coalesce(${p.add(changes.reservationId)}::uuid, reservation_id),
        amount_minor = coalesce(${p.add(changes.amountMinor)}::bigint, amount_minor),
        currency = coalesce(${p.add(changes.currency)}::text, currency)
        WHERE id = ${p.add(saga.id)}::uuid AND version = ${p.add(saga.version)}::int RETURNING id)`,
      `steps AS (INSERT INTO ${this.tables.steps}
        (saga_id, from_state, to_state, trigger, event_id, reason)
        SELECT saga.id, s.from_state, s.to_state, s.trigger, s.event_id, s.reason FROM saga, unnest(
          ${p.add(steps.map((s) => s.fromState))}::text[], ${p.add(steps.map((s) => s.toState))}::text[],
          ${p.add(steps.map((s) => s.trigger))}::text[], ${p.add(steps.map((s) => s.eventId))}::uuid[],
          ${p.add(steps.map((s) => s.reason))}::text[])
          WITH ORDINALITY AS s(from_state, to_state, trigger, event_id, reason, n)
        -- The log is read in id order: ids follow the path.
        ORDER BY s.n)`,
    ];
    if (prices) {
      const orderId = `${p.add(saga.orderId)}::uuid`;
      writes.push(
        `lines AS (UPDATE ${this.tables.lines} l SET unit_price_minor = priced.price
          FROM saga, unnest(${p.add(prices.lines.map((l) => l.sku))}::text[],
            ${p.add(prices.lines.map((l) => l.unitPriceMinor))}::bigint[]) AS priced(sku, price)
          WHERE l.order_id = ${orderId} AND l.sku = priced.sku)`,
        `total AS (UPDATE ${this.tables.orders} SET total_minor = ${p.add(prices.totalMinor)}::bigint
          FROM saga WHERE ${this.tables.orders}.id = ${orderId})`,
      );
    }
    if (events.length > 0) writes.push(`events AS (${this.outbox.insert(events, p, 'saga')})`);
    if (inbox) writes.push(`inbox AS (${this.inbox.insert(inbox, p, 'saga')})`);
    let updated: unknown[];
    try {
      updated = await queryPrepared(
        this.dataSource,
        `WITH ${writes.join(',\n')} SELECT id FROM saga`,
        p.values,
      );
    } catch (error) {
      if (this.inbox.isDuplicate(error)) return 'duplicate';
      throw error;
    }
    if (updated.length !== 1)
      throw new SagaConcurrencyError(`saga ${saga.id} changed concurrently`);
    return 'applied';
  }

  /** Records a reply that changes nothing (late or duplicate), so it is skipped when it comes again. */
  recordIgnored(inbox: InboxEntry): Promise<boolean> {
    return this.inbox.record(this.dataSource.manager, inbox);
  }
}
