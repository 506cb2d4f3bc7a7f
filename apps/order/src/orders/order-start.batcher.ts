import { Inject, Injectable } from '@nestjs/common';
import { Batcher } from '@lib/messaging';
import { IdempotencyKeyReusedError } from '@lib/platform';
import { OrderConfig } from '../config';
import { ORDER_CONFIG } from '../order-config.token';
import { SagaRepository, SagaStart } from '../order-saga/saga.repository';
import { ProductCurrencies } from '../product-currencies/product-currencies';
import { CurrencyNotSupportedError } from './order.errors';
import { IdempotencyKeyOf, KeyedOrder, OrderRepository } from './order.repository';

/**
 * The orders placed together, started as one batch (`SagaRepository.start`: one statement and one
 * commit for all of them), after one look at the keys they were placed under and one at the
 * currencies of their products. An order whose Idempotency-Key already placed one answers that
 * order (`KeyedOrder`), or is refused when its request differs; an order in a currency some of its
 * products are priced otherwise in is refused alone; both before anything is written. Two orders
 * under one Idempotency-Key of one customer never share a batch, so a reused key fails only its
 * own order. No batch window: a request does not wait for others.
 */
@Injectable()
export class OrderStartBatcher extends Batcher<SagaStart, KeyedOrder | undefined> {
  constructor(
    sagas: SagaRepository,
    currencies: ProductCurrencies,
    orders: OrderRepository,
    @Inject(ORDER_CONFIG) config: OrderConfig,
  ) {
    super(
      async (starts) => {
        const outcomes = await placedEarlier(starts, orders, config.IDEMPOTENCY_KEY_TTL_MS);
        const fresh = starts.filter((_, i) => outcomes[i] === undefined);
        const pricedElsewhere = await currencies.pricedElsewhere(
          fresh.map(({ order, lines }) => ({
            tenantId: order.tenantId,
            currency: order.currency,
            skus: lines.map((line) => line.sku),
          })),
        );
        const accepted = fresh.filter((start, i) => {
          const products = pricedElsewhere[i]!;
          if (products.length === 0) return true;
          outcomes[starts.indexOf(start)] = {
            status: 'rejected',
            reason: new CurrencyNotSupportedError(start.order.currency, products),
          };
          return false;
        });
        if (accepted.length > 0) await sagas.start(accepted);
        return outcomes.map(
          (outcome): PromiseSettledResult<KeyedOrder | undefined> =>
            outcome ?? { status: 'fulfilled', value: undefined },
        );
      },
      ({ order }) => (order.idempotencyKey === null ? order.id : keyOf(order)),
    );
  }
}

/**
 * For each start, the answer of the order its Idempotency-Key placed while the key lives (or the
 * refusal of another request under it); undefined for a start that places a new order. Expired
 * keys are released first, so their new orders can take them.
 */
async function placedEarlier(
  starts: SagaStart[],
  orders: OrderRepository,
  keyTtlMs: number,
): Promise<(PromiseSettledResult<KeyedOrder> | undefined)[]> {
  const keys = starts.flatMap(({ order }): IdempotencyKeyOf[] =>
    order.idempotencyKey === null ? [] : [{ ...order, idempotencyKey: order.idempotencyKey }],
  );
  if (keys.length === 0) return starts.map(() => undefined);
  const found = await orders.findByIdempotencyKeys(keys);
  const expiredBefore = Date.now() - keyTtlMs;
  const expired = found.filter((earlier) => earlier.createdAt.getTime() <= expiredBefore);
  if (expired.length > 0) await orders.releaseIdempotencyKeys(expired.map((e) => e.orderId));
  const live = new Map(
    found
      .filter((earlier) => !expired.includes(earlier))
      .map((earlier) => [keyOf(earlier), earlier]),
  );
  return starts.map(({ order }) => {
    const earlier = order.idempotencyKey === null ? undefined : live.get(keyOf(order));
    if (!earlier) return undefined;
    return earlier.requestHash === order.requestHash
      ? { status: 'fulfilled', value: earlier }
      : { status: 'rejected', reason: new IdempotencyKeyReusedError() };
  });
}

function keyOf({
  tenantId,
  customerId,
  idempotencyKey,
}: {
  tenantId: string;
  customerId: string;
  idempotencyKey: string | null;
}): string {
  return JSON.stringify([tenantId, customerId, idempotencyKey]);
}
