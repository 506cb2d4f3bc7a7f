import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Batcher } from '@lib/messaging';
import { readTogether } from '@lib/persistence';
import { IdempotencyKeyReusedError } from '@lib/platform';
import { OrderConfig } from '../config';
import { ORDER_CONFIG } from '../order-config.token';
import { SagaRepository, SagaStart } from '../order-saga/saga.repository';
import { ProductCurrencies } from '../product-currencies/product-currencies';
import { CurrencyNotSupportedError } from './order.errors';
import { IdempotencyKeyOf, KeyedOrder, OrderRepository } from './order.repository';

/** Statements starting a batch's orders before it gives up: only an expired key needs a second. */
const START_ROUNDS = 3;

/**
 * Orders that start at once, without waiting out the window: with 16 in one statement, one more
 * saves little, and in a burst the wait would only slow every client down.
 */
const START_AT_ONCE = 16;

/**
 * The orders placed together, started as one batch (`SagaRepository.start`: one statement and one
 * commit for all of them), except those whose Idempotency-Key already placed an order or whose
 * products are priced in another currency: the usual order costs one round trip. The statement
 * skips the others, which are then looked at, in one statement: an order whose key placed one
 * answers that order (`KeyedOrder`), or is refused when its request differs; an order in a currency
 * some of its products are priced otherwise in is refused alone; an expired key is released and its
 * order starts in the next round. Two orders under one Idempotency-Key of one customer never share
 * a batch, so a reused key fails only its own order. A batch that fails before it wrote an order is
 * run again order by order (Batcher); after, a failure fails only the orders still undecided. An
 * order waits `ORDER_START_WINDOW_MS` for others only while orders come closer together than that:
 * at a steady rate a few share a statement, and an order after a quiet spell starts at once.
 */
@Injectable()
export class OrderStartBatcher extends Batcher<SagaStart, KeyedOrder | undefined> {
  constructor(
    dataSource: DataSource,
    sagas: SagaRepository,
    currencies: ProductCurrencies,
    orders: OrderRepository,
    @Inject(ORDER_CONFIG) config: OrderConfig,
  ) {
    /** Why the orders a start skipped were skipped; answers those still to start. */
    const lookUpSkipped = async (
      skipped: SagaStart[],
      outcomes: Map<SagaStart, PromiseSettledResult<KeyedOrder>>,
    ): Promise<SagaStart[]> => {
      const [found, pricedElsewhere] = await readTogether(dataSource.manager, [
        orders.keyedOrders(idempotencyKeysOf(skipped)),
        currencies.pricedElsewhere(
          skipped.map(({ order, lines }) => ({
            tenantId: order.tenantId,
            currency: order.currency,
            skus: lines.map((line) => line.sku),
          })),
        ),
      ]);
      const earlier = await placedEarlier(skipped, found, orders, config.IDEMPOTENCY_KEY_TTL_MS);
      return skipped.filter((start, i) => {
        const products = pricedElsewhere[i]!;
        const outcome =
          earlier[i] ??
          (products.length > 0
            ? {
                status: 'rejected',
                reason: new CurrencyNotSupportedError(start.order.currency, products),
              }
            : undefined);
        if (outcome) outcomes.set(start, outcome);
        return !outcome;
      });
    };
    super(
      async (starts) => {
        const outcomes = new Map<SagaStart, PromiseSettledResult<KeyedOrder>>();
        let undecided = starts;
        let written = false;
        try {
          for (let round = 1; undecided.length > 0; round++) {
            if (round > START_ROUNDS)
              throw new Error('orders not started: their keys kept changing');
            const started = await sagas.start(
              undecided,
              (order, lines) =>
                `${orders.keyTaken(order)} OR ${currencies.pricedElsewhereIn(order, lines)}`,
            );
            written ||= started.size > 0;
            undecided = undecided.filter((start) => !started.has(start.order.id));
            if (undecided.length > 0) undecided = await lookUpSkipped(undecided, outcomes);
          }
        } catch (error) {
          // Running the written orders again would place them twice.
          if (!written) throw error;
          for (const start of undecided) outcomes.set(start, { status: 'rejected', reason: error });
        }
        return starts.map(
          (start): PromiseSettledResult<KeyedOrder | undefined> =>
            outcomes.get(start) ?? { status: 'fulfilled', value: undefined },
        );
      },
      ({ order }) => (order.idempotencyKey === null ? order.id : keyOf(order)),
      { windowMs: config.ORDER_START_WINDOW_MS, onlyWhenBusy: true, fullAt: START_AT_ONCE },
    );
  }
}

function idempotencyKeysOf(starts: SagaStart[]): IdempotencyKeyOf[] {
  return starts.flatMap(({ order }): IdempotencyKeyOf[] =>
    order.idempotencyKey === null ? [] : [{ ...order, idempotencyKey: order.idempotencyKey }],
  );
}

/**
 * For each start, the answer of the order its Idempotency-Key placed while the key lives (or the
 * refusal of another request under it), from the orders `found` under the batch's keys; undefined
 * for a start that places a new order. Expired keys are released first, so their new orders can
 * take them.
 */
async function placedEarlier(
  starts: SagaStart[],
  found: KeyedOrder[],
  orders: OrderRepository,
  keyTtlMs: number,
): Promise<(PromiseSettledResult<KeyedOrder> | undefined)[]> {
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
