import { Injectable } from '@nestjs/common';
import { DataSource, FindOptionsWhere } from 'typeorm';
import { Scope } from '@lib/platform';
import { SagaStep } from '../order-saga/saga-step.entity';
import { Saga } from '../order-saga/saga.entity';
import { Order } from './order.entity';

/** An order with its lines, its saga and the saga's step log. */
export interface OrderWithSaga {
  order: Order;
  saga: Saga;
  steps: SagaStep[];
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

  /** The order a customer placed under an Idempotency-Key (expired or not), with its saga. */
  async findByIdempotencyKey(
    tenantId: string,
    customerId: string,
    idempotencyKey: string,
  ): Promise<{ order: Order; saga: Saga } | undefined> {
    const order = await this.dataSource
      .getRepository(Order)
      .findOneBy({ tenantId, customerId, idempotencyKey });
    if (!order) return undefined;
    const saga = await this.dataSource.getRepository(Saga).findOneByOrFail({ orderId: order.id });
    return { order, saga };
  }

  /** Frees an expired key for the customer's next order under it. */
  async releaseIdempotencyKey(orderId: string): Promise<void> {
    await this.dataSource.getRepository(Order).update({ id: orderId }, { idempotencyKey: null });
  }
}

function inScope(scope: Scope): FindOptionsWhere<Order> {
  return scope.ownerId === undefined
    ? { tenantId: scope.tenantId }
    : { tenantId: scope.tenantId, customerId: scope.ownerId };
}
