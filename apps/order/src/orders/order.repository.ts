import { Injectable } from '@nestjs/common';
import { DataSource, FindOptionsWhere, In } from 'typeorm';
import { JsonRead, readTogether } from '@lib/persistence';
import { Scope } from '@lib/platform';
import { SagaStep } from '../order-saga/saga-step.entity';
import { SagaState } from '../order-saga/order-saga.state';
import { Saga } from '../order-saga/saga.entity';
import { Order } from './order.entity';

/** An order with its lines, its saga and the saga's step log. */
export interface OrderWithSaga {
  order: Order;
  saga: Saga;
  steps: SagaStep[];
}

/** Who placed an order under which Idempotency-Key. */
export interface IdempotencyKeyOf {
  tenantId: string;
  customerId: string;
  idempotencyKey: string;
}

/** An order placed under an Idempotency-Key, as a retry of its request is answered. */
export interface KeyedOrder extends IdempotencyKeyOf {
  orderId: string;
  sagaId: string;
  state: SagaState;
  requestHash: string;
  createdAt: Date;
}

/**
 * The orders a principal may see: every lookup names its tenant, and its customer unless the
 * principal reads any customer's. (Writes go through SagaRepository: an order starts with its saga.)
 */
@Injectable()
export class OrderRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The order in `scope`, in one snapshot (repeatable read): lines, prices and saga state from the
   * same moment. Another tenant's or customer's order is as absent as one that does not exist.
   */
  findWithSaga(orderId: string, scope: Scope): Promise<OrderWithSaga | undefined> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const order = await manager.findOne(Order, {
        where: { id: orderId, ...inScope(scope) },
        relations: { lines: true },
        order: { lines: { sku: 'ASC' } },
      });
      const saga = order && (await manager.findOneBy(Saga, { orderId }));
      if (!order || !saga) return undefined;
      const steps = await manager.find(SagaStep, {
        where: { sagaId: saga.id },
        order: { id: 'ASC' },
      });
      return { order, saga, steps };
    });
  }

  /**
   * The orders placed under these Idempotency-Keys (expired or not), with their sagas' states, in
   * one statement: a batch of orders looks up all its keys at once.
   */
  async findByIdempotencyKeys(keys: IdempotencyKeyOf[]): Promise<KeyedOrder[]> {
    const [found] = await readTogether(this.dataSource.manager, [this.keyedOrders(keys)]);
    return found;
  }

  /**
   * An SQL condition (`SkipCondition`): the placed `order`'s Idempotency-Key already placed an
   * order of its customer, expired or not.
   */
  keyTaken(order: string): string {
    return `EXISTS (SELECT 1 FROM ${this.dataSource.getMetadata(Order).tablePath} o
      WHERE o.tenant_id = ${order}.tenant_id AND o.customer_id = ${order}.customer_id
        AND o.idempotency_key = ${order}.idempotency_key)`;
  }

  /** `findByIdempotencyKeys` as a read that can share its statement (`readTogether`). */
  keyedOrders(keys: IdempotencyKeyOf[]): JsonRead<KeyedOrder[]> {
    const orders = this.dataSource.getMetadata(Order).tablePath;
    const sagas = this.dataSource.getMetadata(Saga).tablePath;
    return {
      select: (params) => {
        const column = (value: (key: IdempotencyKeyOf) => string) =>
          params.array(keys, value, 'text');
        return `SELECT o.tenant_id AS "tenantId", o.customer_id AS "customerId",
              o.idempotency_key AS "idempotencyKey", o.id AS "orderId", s.id AS "sagaId", s.state,
              o.request_hash AS "requestHash", o.created_at AS "createdAt"
         FROM ${orders} o
         JOIN unnest(${column((key) => key.tenantId)}, ${column((key) => key.customerId)},
              ${column((key) => key.idempotencyKey)}) AS k(tenant_id, customer_id, idempotency_key)
           USING (tenant_id, customer_id, idempotency_key)
         JOIN ${sagas} s ON s.order_id = o.id`;
      },
      fromJson: (rows) =>
        (rows as (Omit<KeyedOrder, 'createdAt'> & { createdAt: string })[]).map((row) => ({
          ...row,
          createdAt: new Date(row.createdAt),
        })),
    };
  }

  /** Frees expired keys for the customers' next orders under them. */
  async releaseIdempotencyKeys(orderIds: string[]): Promise<void> {
    await this.dataSource
      .getRepository(Order)
      .update({ id: In(orderIds) }, { idempotencyKey: null });
  }
}

function inScope(scope: Scope): FindOptionsWhere<Order> {
  return scope.ownerId === undefined
    ? { tenantId: scope.tenantId }
    : { tenantId: scope.tenantId, customerId: scope.ownerId };
}
