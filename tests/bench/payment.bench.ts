import 'reflect-metadata';
import {
  EventEnvelope,
  OrderConfirmedV1,
  PaymentPendingV1,
  PaymentPendingV1Payload,
} from '@lib/contracts';
import { SagaSystem } from '../harness/saga-system';
import { latencyRow, loadAverage, perSecond, printTable, RATE_LIMITS_OFF } from './stats';

/*
 * npm run bench:payment [-- orders concurrency]
 * Paid orders end to end: order, inventory and payment apps as processes, stripe-local, a private
 * nats-server and the local Postgres. Each client places an order, waits for its PaymentIntent
 * (payment.pending), pays it with 4242 as a storefront would, and waits for order.confirmed, which
 * takes Stripe's signed webhook, payment.succeeded and the saga.
 */
const ORDERS = Number(process.argv[2] ?? 500);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const SKU = 'BENCH-PAY';

/** Resolves when the event about this order arrives. */
class Arrivals<T> {
  private readonly seen = new Map<string, T>();
  private readonly waiting = new Map<string, (value: T) => void>();

  add(orderId: string, value: T): void {
    this.seen.set(orderId, value);
    this.waiting.get(orderId)?.(value);
  }

  wait(orderId: string): Promise<T> {
    const seen = this.seen.get(orderId);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiting.set(orderId, resolve));
  }
}

async function main(): Promise<void> {
  const system = await SagaSystem.start({
    order: { SAGA_PAYMENT_TIMEOUT_MS: '600000', DATABASE_POOL_SIZE: '20', ...RATE_LIMITS_OFF },
    inventory: { DATABASE_POOL_SIZE: '20', ...RATE_LIMITS_OFF },
    paymentApp: { DATABASE_POOL_SIZE: '20', ...RATE_LIMITS_OFF },
    orderConnections: CONCURRENCY,
  });
  try {
    await system.putProduct(SKU, 10_000_000, 999);
    const pending = new Arrivals<string>();
    const confirmed = new Arrivals<number>();
    system.nc.subscribe(PaymentPendingV1.subject, {
      callback: (_error, message) => {
        const { payload } = message.json<EventEnvelope<PaymentPendingV1Payload>>();
        pending.add(payload.orderId, payload.paymentIntentId);
      },
    });
    system.nc.subscribe(OrderConfirmedV1.subject, {
      callback: (_error, message) => {
        const { payload } = message.json<EventEnvelope<{ orderId: string }>>();
        confirmed.add(payload.orderId, performance.now());
      },
    });
    process.stdout.write(
      `bench:payment: ${ORDERS} paid orders from ${CONCURRENCY} clients; load average ${loadAverage()}\n`,
    );

    const toIntent: number[] = [];
    const toConfirmed: number[] = [];
    const total: number[] = [];
    const pay = async (): Promise<void> => {
      const startedAt = performance.now();
      const orderId = await system.placeOrder([{ sku: SKU, quantity: 1 }]);
      const paymentIntentId = await pending.wait(orderId);
      const paidAt = performance.now();
      await system.stripe!.confirm(paymentIntentId, '4242424242424242');
      const confirmedAt = await confirmed.wait(orderId);
      toIntent.push(paidAt - startedAt);
      toConfirmed.push(confirmedAt - paidAt);
      total.push(confirmedAt - startedAt);
    };
    const run = async (orders: number): Promise<number> => {
      let issued = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (issued++ < orders) await pay();
        }),
      );
      return performance.now() - started;
    };

    // Warm-up: JIT, pools, consumers.
    await run(50);
    toIntent.length = toConfirmed.length = total.length = 0;
    const elapsed = await run(ORDERS);

    printTable('Latency (ms)', [
      latencyRow('POST /orders to payment.pending (PaymentIntent created)', toIntent),
      latencyRow('card confirmed to order.confirmed (webhook, saga)', toConfirmed),
      latencyRow('POST /orders to order.confirmed', total),
    ]);
    printTable('Throughput', [{ measure: 'paid orders/s', value: perSecond(ORDERS, elapsed) }]);
    process.stdout.write(`load average after: ${loadAverage()}\n`);
  } finally {
    await system.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:payment failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
