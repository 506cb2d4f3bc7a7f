import { Injectable } from '@nestjs/common';
import { Batcher } from '@lib/messaging';
import { SagaRepository, SagaStart } from '../order-saga/saga.repository';
import { ProductCurrencies } from '../product-currencies/product-currencies';
import { CurrencyNotSupportedError } from './order.errors';

/**
 * The orders placed together, started as one batch (`SagaRepository.start`: one statement and one
 * commit for all of them), after one look at the currencies of all their products: an order in a
 * currency some of its products are priced otherwise in is refused alone, before anything is
 * written. Two orders under one Idempotency-Key of one customer never share a batch, so a reused
 * key fails only its own order, which then answers the order already placed under it. No batch
 * window: a request does not wait for others.
 */
@Injectable()
export class OrderStartBatcher extends Batcher<SagaStart, void> {
  constructor(sagas: SagaRepository, currencies: ProductCurrencies) {
    super(
      async (starts) => {
        const pricedElsewhere = await currencies.pricedElsewhere(
          starts.map(({ order, lines }) => ({
            tenantId: order.tenantId,
            currency: order.currency,
            skus: lines.map((line) => line.sku),
          })),
        );
        const refusals = pricedElsewhere.map((products, i) =>
          products.length > 0
            ? new CurrencyNotSupportedError(starts[i]!.order.currency, products)
            : undefined,
        );
        const accepted = starts.filter((_, i) => !refusals[i]);
        if (accepted.length > 0) await sagas.start(accepted);
        return refusals.map((refusal): PromiseSettledResult<void> =>
          refusal
            ? { status: 'rejected', reason: refusal }
            : { status: 'fulfilled', value: undefined },
        );
      },
      ({ order }) =>
        order.idempotencyKey === null
          ? order.id
          : JSON.stringify([order.tenantId, order.customerId, order.idempotencyKey]),
    );
  }
}
