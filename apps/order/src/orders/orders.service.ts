import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { createEvent, OrderCreatedV1 } from '@lib/contracts';
import { traceIdOf } from '@lib/observability';
import { isUniqueViolation } from '@lib/persistence';
import {
  auditEntry,
  AuditLog,
  ForbiddenError,
  IdempotencyKeyReusedError,
  IdempotentRequests,
  InvalidRequestError,
  Permission,
  Principal,
} from '@lib/platform';
import { OrderConfig } from '../config';
import { ORDER_CONFIG } from '../order-config.token';
import { sagaMetrics } from '../order-saga/order-saga.metrics';
import { OrderSagaOrchestrator } from '../order-saga/order-saga.orchestrator';
import { SagaConcurrencyError } from '../order-saga/saga.repository';
import { OrderStatus, orderStatusOf, SagaState } from '../order-saga/order-saga.state';
import { OrderStartBatcher } from './order-start.batcher';
import { KeyedOrder, OrderRepository, OrderWithSaga } from './order.repository';
import { OrderAlreadyFinishedError, OrderNotFoundError } from './order.errors';
import { MAX_LINE_QUANTITY, PlaceOrderRequest } from './place-order.request';

/** `POST /orders`: the order and its saga, which runs on. */
export interface PlacedOrder {
  /**
   * Also the correlation id of every event of its saga.
   * @format uuid
   */
  orderId: string;
  /** @format uuid */
  sagaId: string;
  /** `PENDING` until the saga ends. */
  status: OrderStatus;
}

export interface CancelledOrder {
  /** @format uuid */
  orderId: string;
  status: OrderStatus;
  /** The saga's state after the cancel: `COMPENSATING` until the participants have undone their part. */
  sagaState: SagaState;
}

/** An order line; its unit price is the catalogue's, set once inventory reserved it. */
export interface OrderLineView {
  /** @example DEMO-TEE */
  sku: string;
  /** @integer */
  quantity: number;
  /**
   * Minor units (cents); null until reserved.
   * @integer
   */
  unitPriceMinor: number | null;
}

/** A transition of the saga, with what caused it. */
export interface SagaStepView {
  from: SagaState | null;
  to: SagaState;
  at: Date;
  /** The subject of the event that caused it, or `deadline`, `customer-cancel`, `operator-retry`... */
  trigger: string;
  /** @format uuid */
  eventId: string | null;
  reason: string | null;
}

/** `GET /orders/:id`: the order, its lines and total, and its saga with the step log. */
export interface OrderView {
  /** @format uuid */
  orderId: string;
  customerId: string;
  tenantId: string;
  status: OrderStatus;
  /** @example EUR */
  currency: string;
  /**
   * Minor units (cents); null until reserved.
   * @integer
   */
  totalMinor: number | null;
  lines: OrderLineView[];
  createdAt: Date;
  /** Its saga's last transition. */
  updatedAt: Date;
  saga: {
    /** @format uuid */
    sagaId: string;
    state: SagaState;
    /** @integer */
    version: number;
    /** Why it was cancelled or failed, e.g. `payment-failed`; null while nothing went wrong. */
    reason: string | null;
    /** When the step it waits on times out; null in a final state. */
    deadlineAt: Date | null;
    /** Operators only: the order's trace, to find it in the tracing backend. */
    traceId?: string | null;
    /** Oldest first. */
    steps: SagaStepView[];
  };
}

const CANCEL_ATTEMPTS = 5;

/** Who may see or cancel an order: its customer, or whoever reads any order of the tenant. */
const ORDER_SCOPE: Permission = 'orders:read-any';

@Injectable()
export class OrdersService {
  constructor(
    private readonly orders: OrderRepository,
    private readonly starts: OrderStartBatcher,
    private readonly orchestrator: OrderSagaOrchestrator,
    private readonly audit: AuditLog,
    @Inject(ORDER_CONFIG) private readonly config: OrderConfig,
  ) {}

  /**
   * An order of the principal (its customer) in the principal's tenant. Order, saga,
   * `order.created` and the audit record commit together (with those of the orders placed at the
   * same time). With an Idempotency-Key, the same request of the same customer answers the same
   * order and starts no second saga until the key expires; another body under that key is refused.
   * An order in a currency that some of its products are known to be priced otherwise in is
   * refused before anything is written (OrderStartBatcher).
   */
  async place(
    principal: Principal,
    request: PlaceOrderRequest,
    idempotencyKey?: string,
  ): Promise<PlacedOrder> {
    if (request.customerId !== undefined && request.customerId !== principal.sub) {
      await this.audit.recordAlone(
        auditEntry(
          principal,
          'order.place',
          { type: 'customer', id: request.customerId },
          { result: 'denied', reason: 'AUTH.FORBIDDEN: customerId is not the token subject' },
        ),
      );
      throw new ForbiddenError();
    }
    const items = mergeLines(request.items);
    const currency = request.currency ?? this.config.DEFAULT_CURRENCY;
    const requestHash = IdempotentRequests.hash({ currency, items });
    const orderId = randomUUID();
    const sagaId = randomUUID();
    const now = new Date();
    const { sub: customerId, tenantId } = principal;
    try {
      const earlier = await this.starts.apply({
        order: {
          id: orderId,
          customerId,
          currency,
          tenantId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          createdAt: now,
        },
        lines: items,
        saga: { id: sagaId, deadlineAt: this.orchestrator.deadline('stock', null, now) },
        created: createEvent(
          OrderCreatedV1,
          { orderId, customerId, currency, items },
          { correlationId: orderId, sagaId, tenantId },
        ),
        audit: auditEntry(
          principal,
          'order.place',
          { type: 'order', id: orderId },
          { details: { currency, lines: items } },
        ),
      });
      if (earlier) return placedOf(earlier);
    } catch (error) {
      // The same key raced in on another instance: answer what that one created.
      if (idempotencyKey && isUniqueViolation(error, 'orders_idempotency_key')) {
        const [earlier] = await this.orders.findByIdempotencyKeys([
          { tenantId, customerId, idempotencyKey },
        ]);
        if (earlier?.requestHash === requestHash) return placedOf(earlier);
        if (earlier) throw new IdempotencyKeyReusedError();
      }
      throw error;
    }
    sagaMetrics.started.inc();
    return { orderId, sagaId, status: orderStatusOf('STARTED') };
  }

  /** The order, if the principal may see it: 404 for another tenant's or customer's. */
  async find(orderId: string, principal: Principal): Promise<OrderView> {
    const found = await this.orders.findWithSaga(orderId, principal.scope(ORDER_SCOPE));
    if (!found) throw new OrderNotFoundError(orderId);
    // Operators get the order's trace id, to find it in the tracing backend.
    return view(found, principal.can(ORDER_SCOPE));
  }

  /**
   * Starts the compensations of an unfinished order the principal may see (404 otherwise), in
   * `manager`'s transaction with its audit record; cancelling one already being cancelled is a
   * no-op and records nothing. A racing reply makes the version check fail: try again on the new
   * state.
   */
  async cancel(
    manager: EntityManager,
    orderId: string,
    principal: Principal,
  ): Promise<CancelledOrder> {
    const scope = principal.scope(ORDER_SCOPE);
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.orchestrator.apply(orderId, 'customer-cancel', scope, {
          manager,
        });
        if (!outcome) throw new OrderNotFoundError(orderId);
        const { state } = outcome.saga;
        if (outcome.applied) {
          await this.audit.record(manager, [
            auditEntry(
              principal,
              'order.cancel',
              { type: 'order', id: orderId },
              { details: { from: outcome.from, to: state } },
            ),
          ]);
        } else if (state === 'COMPLETED' || state === 'FAILED') {
          throw new OrderAlreadyFinishedError(orderId, state);
        }
        return { orderId, status: orderStatusOf(state), sagaState: state };
      } catch (error) {
        if (!(error instanceof SagaConcurrencyError) || attempt === CANCEL_ATTEMPTS) throw error;
      }
    }
  }
}

function placedOf({ orderId, sagaId, state }: KeyedOrder): PlacedOrder {
  return { orderId, sagaId, status: orderStatusOf(state) };
}

function view({ order, saga, steps }: OrderWithSaga, operator: boolean): OrderView {
  return {
    orderId: order.id,
    customerId: order.customerId,
    tenantId: order.tenantId,
    status: orderStatusOf(saga.state),
    currency: order.currency,
    totalMinor: order.totalMinor,
    lines: order.lines.map(({ sku, quantity, unitPriceMinor }) => ({
      sku,
      quantity,
      unitPriceMinor,
    })),
    createdAt: order.createdAt,
    updatedAt: saga.updatedAt,
    saga: {
      sagaId: saga.id,
      state: saga.state,
      version: saga.version,
      reason: saga.reason,
      deadlineAt: saga.deadlineAt,
      ...(operator && { traceId: traceIdOf(saga.traceContext) }),
      steps: steps.map((step) => ({
        from: step.fromState,
        to: step.toState,
        at: step.at,
        trigger: step.trigger,
        eventId: step.eventId,
        reason: step.reason,
      })),
    },
  };
}

/** Repeated SKUs are merged into one line (documented in docs/order-saga.md). */
function mergeLines(items: PlaceOrderRequest['items']): { sku: string; quantity: number }[] {
  const quantities = new Map<string, number>();
  for (const { sku, quantity } of items) quantities.set(sku, (quantities.get(sku) ?? 0) + quantity);
  const merged = [...quantities].map(([sku, quantity]) => ({ sku, quantity }));
  const tooMany = merged.find((line) => line.quantity > MAX_LINE_QUANTITY);
  if (tooMany) {
    throw new InvalidRequestError(
      `items for sku ${tooMany.sku} add up to ${tooMany.quantity}, more than ${MAX_LINE_QUANTITY}`,
    );
  }
  return merged.sort((a, b) => a.sku.localeCompare(b.sku));
}
