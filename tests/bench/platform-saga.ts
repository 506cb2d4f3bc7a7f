import { EventEnvelope, OrderConfirmedV1 } from '@lib/contracts';
import { randomUUID } from 'node:crypto';
import { KeepAliveFetch } from '../harness/keep-alive-fetch';
import { query } from '../harness/database';
import { SagaSystem } from '../harness/saga-system';
import { tokenFor } from '../harness/tokens';
import { Cost, countingStatements, SagaCost } from './saga-cost';
import { runSagaWorkload, SAGA_SKUS, SagaRun, SagaWorkload } from './saga-workload';
import { PRODUCTION_OUTBOX_POLLING, RATE_LIMITS_OFF } from './stats';

/**
 * The saga workload on this platform: the order app as two processes (HTTP and saga worker) and the
 * inventory app on a private nats-server and the test database; payment requests are answered at
 * once with success by a stand-in payment participant in a process of its own, so its work does
 * not delay the timings taken here. `env` goes to both apps (e.g. tracing).
 */
export async function runPlatformSaga(
  workload: SagaWorkload,
  env: Record<string, string> = {},
): Promise<SagaRun<Cost>> {
  const counting = countingStatements();
  const system = await SagaSystem.start({
    order: {
      SAGA_PAYMENT_TIMEOUT_MS: '600000',
      DATABASE_POOL_SIZE: '20',
      ...counting,
      ...RATE_LIMITS_OFF,
      ...PRODUCTION_OUTBOX_POLLING,
      ...env,
    },
    inventory: {
      DATABASE_POOL_SIZE: '20',
      ...counting,
      ...RATE_LIMITS_OFF,
      ...PRODUCTION_OUTBOX_POLLING,
      ...env,
    },
    paymentProcess: true,
    splitOrder: true,
  });
  const cost = await SagaCost.open(system);
  const connections = new KeepAliveFetch(workload.concurrency);
  const authorization = `Bearer ${await tokenFor('bench-customer', ['customer'])}`;
  try {
    for (const sku of SAGA_SKUS) await system.putProduct(sku, 10_000_000, 999);
    const completedAt = new Map<string, number>();
    system.nc.subscribe(OrderConfirmedV1.subject, {
      callback: (_error, message) => {
        const event = message.json<EventEnvelope<{ orderId: string }>>();
        completedAt.set(event.payload.orderId, performance.now());
      },
    });
    return await runSagaWorkload(
      {
        // What the SDK sends (a bearer token, an Idempotency-Key per order), on the lean path.
        placeOrder: async (sku) => {
          const { status, text } = await connections.postJson(
            `${system.order.url}/orders`,
            { items: [{ sku, quantity: 1 }] },
            { authorization, 'idempotency-key': randomUUID() },
          );
          if (status !== 202) throw new Error(`POST /orders answered ${status}: ${text}`);
          return (JSON.parse(text) as { orderId: string }).orderId;
        },
        completedAt,
        measure: (work) => cost.measure(work),
        analyze: async () => void (await query('ANALYZE')),
      },
      workload,
    );
  } catch (error) {
    // What the apps said last is usually why the work did not finish.
    for (const [name, app] of Object.entries(system.sagaApps())) {
      process.stderr.write(`--- ${name} stderr (tail)\n${app.stderr().slice(-4000)}\n`);
    }
    throw error;
  } finally {
    connections.close();
    await cost.close();
    await system.stop();
  }
}

/** CPU ms of the whole system under test: the apps, nats-server and Postgres. */
export function systemCpuMs(cost: Cost): number {
  return Object.values(cost.cpuMs).reduce((a, b) => a + b, 0);
}
