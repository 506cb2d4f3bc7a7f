import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createEvent, OrderCreatedV1 } from '@lib/contracts';
import { isUniqueViolation } from '@lib/persistence';
import { InvalidRequestError } from '@lib/platform';
import { OrderConfig } from '../config';
import { ORDER_CONFIG } from '../order-config.token';
import { sagaMetrics } from '../order-saga/order-saga.metrics';
import { OrderSagaOrchestrator } from '../order-saga/order-saga.orchestrator';
import { SagaConcurrencyError } from '../order-saga/saga.repository';
import { orderStatusOf, SagaState } from '../order-saga/order-saga.state';
import { SagaStep } from '../order-saga/saga-step.entity';
import { Saga } from '../order-saga/saga.entity';
import { OrderStartBatcher } from './order-start.batcher';
import { Order } from './order.entity';
import {
  IdempotencyKeyReusedError,
  OrderAlreadyFinishedError,
  OrderNotFoundError,
} from './order.errors';
import { MAX_LINE_QUANTITY, PlaceOrderRequest } from './place-order.request';

export interface PlacedOrder {
  orderId: string;
  sagaId: string;
  status: string;
}

const CANCEL_ATTEMPTS = 5;

@Injectable()
export class OrdersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly starts: OrderStartBatcher,
    private readonly orchestrator: OrderSagaOrchestrator,
    @Inject(ORDER_CONFIG) private readonly config: OrderConfig,
  ) {}

  /**
   * Order, saga and `order.created` commit together (with those of the orders placed at the same
   * time). With an Idempotency-Key, the same request answers the same order and starts no second
   * saga; another body under that key is refused.
   */
  async place(request: PlaceOrderRequest, idempotencyKey?: string): Promise<PlacedOrder> {
    const items = mergeLines(request.items);
    const currency = request.currency ?? this.config.DEFAULT_CURRENCY;
    const tenantId = request.tenantId ?? null;
    const requestHash = createHash('sha256')
      .update(JSON.stringify({ customerId: request.customerId, currency, tenantId, items }))
      .digest('hex');
    if (idempotencyKey) {
      const earlier = await this.replay(idempotencyKey, requestHash);
      if (earlier) return earlier;
    }
    const orderId = randomUUID();
    const sagaId = randomUUID();
    const now = new Date();
    try {
      const created = createEvent(
        OrderCreatedV1,
        { orderId, customerId: request.customerId, currency, items },
        { correlationId: orderId, sagaId, tenantId: tenantId ?? undefined },
      );
      await this.starts.apply({
        order: {
          id: orderId,
          customerId: request.customerId,
          currency,
          tenantId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          createdAt: now,
        },
        lines: items,
        saga: { id: sagaId, deadlineAt: this.orchestrator.deadline('stock', null, now) },
        created,
      });
    } catch (error) {
      // The same key raced in on another request: answer what that one created.
      if (idempotencyKey && isUniqueViolation(error, 'orders_idempotency_key_key')) {
        const earlier = await this.replay(idempotencyKey, requestHash);
        if (earlier) return earlier;
      }
      throw error;
    }
    sagaMetrics.started.inc();
    return { orderId, sagaId, status: orderStatusOf('STARTED') };
  }

  /** One snapshot (repeatable read): lines, prices and saga state from the same moment. */
  find(orderId: string) {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const order = await manager.findOne(Order, {
        where: { id: orderId },
        relations: { lines: true },
        order: { lines: { sku: 'ASC' } },
      });
      const saga = await manager.findOneBy(Saga, { orderId });
      if (!order || !saga) throw new OrderNotFoundError(orderId);
      const steps = await manager.find(SagaStep, {
        where: { sagaId: saga.id },
        order: { id: 'ASC' },
      });
      return view(order, saga, steps);
    });
  }

  /**
   * Starts the compensations of an unfinished order; cancelling one already being cancelled is a
   * no-op. A racing reply makes the version check fail: try again on the new state.
   */
  async cancel(
    orderId: string,
  ): Promise<{ orderId: string; status: string; sagaState: SagaState }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.orchestrator.apply(orderId, 'customer-cancel');
        if (!outcome) throw new OrderNotFoundError(orderId);
        const { state } = outcome.saga;
        if (!outcome.applied && (state === 'COMPLETED' || state === 'FAILED')) {
          throw new OrderAlreadyFinishedError(orderId, state);
        }
        return { orderId, status: orderStatusOf(state), sagaState: state };
      } catch (error) {
        if (!(error instanceof SagaConcurrencyError) || attempt === CANCEL_ATTEMPTS) throw error;
      }
    }
  }

  private async replay(
    idempotencyKey: string,
    requestHash: string,
  ): Promise<PlacedOrder | undefined> {
    const order = await this.dataSource.getRepository(Order).findOneBy({ idempotencyKey });
    if (!order) return undefined;
    if (order.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
    const saga = await this.dataSource.getRepository(Saga).findOneByOrFail({ orderId: order.id });
    return { orderId: order.id, sagaId: saga.id, status: orderStatusOf(saga.state) };
  }
}

function view(order: Order, saga: Saga, steps: SagaStep[]) {
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
