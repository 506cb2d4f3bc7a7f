import 'reflect-metadata';
import { cpus } from 'node:os';
import { EventEnvelope, OrderConfirmedV1 } from '@lib/contracts';
import { SagaSystem } from '../harness/saga-system';
import { eventually } from '../harness/wait';
import { Cost, countingStatements, SagaCost } from './saga-cost';
import { startTracingSink } from './tracing-sink';
import {
  latencyRow,
  loadAverage,
  percentile,
  perSecond,
  printTable,
  RATE_LIMITS_OFF,
} from './stats';

/*
 * npm run bench:saga [-- orders concurrency paced-rate]; BENCH_TRACING=1 (or 0.1) npm run bench:saga
 * runs the apps with tracing on at that ratio, to a local OTLP sink (tests/bench/tracing-sink.ts).
 * Orders through POST /orders with the order and inventory apps as processes on a private
 * nats-server and the local Postgres; payment requests are answered at once with success by a
 * stand-in payment participant in a process of its own, so its work does not delay the timings
 * taken here.
 * (1) throughput: N orders from C concurrent clients; (2) latency: 150 orders/s for 10 s.
 * The cost of a saga during each is measured on the system's own processes (CPU time, transactions,
 * statements), so it can be compared across machines and survives other load on this one.
 */
const ORDERS = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const PACED_RATE = Number(process.argv[4] ?? 150);
const PACED_SECONDS = 10;
const SKUS = Array.from({ length: 20 }, (_, i) => `BENCH-${i}`);

interface Timing {
  postMs: number;
  startedAt: number;
}

async function main(): Promise<void> {
  const counting = countingStatements();
  const sink = startTracingSink();
  const tracing = sink?.env ?? {};
  const system = await SagaSystem.start({
    order: {
      SAGA_PAYMENT_TIMEOUT_MS: '600000',
      DATABASE_POOL_SIZE: '20',
      ...counting,
      ...RATE_LIMITS_OFF,
      ...tracing,
    },
    inventory: { DATABASE_POOL_SIZE: '20', ...counting, ...RATE_LIMITS_OFF, ...tracing },
    orderConnections: CONCURRENCY,
    paymentProcess: true,
    splitOrder: true,
  });
  const cost = await SagaCost.open(system);
  try {
    for (const sku of SKUS) await system.putProduct(sku, 10_000_000, 999);
    const confirmedAt = new Map<string, number>();
    system.nc.subscribe(OrderConfirmedV1.subject, {
      callback: (_error, message) => {
        const event = message.json<EventEnvelope<{ orderId: string }>>();
        confirmedAt.set(event.payload.orderId, performance.now());
      },
    });
    process.stdout.write(
      `bench:saga: ${ORDERS} orders at concurrency ${CONCURRENCY}, then ${PACED_RATE}/s for ${PACED_SECONDS} s; ${sink?.label ?? 'tracing off'}; load average ${loadAverage()}\n`,
    );

    let next = 0;
    const place = async (timings: Map<string, Timing>): Promise<void> => {
      const startedAt = performance.now();
      const orderId = await system.placeOrder([{ sku: SKUS[next++ % SKUS.length]!, quantity: 1 }]);
      timings.set(orderId, { postMs: performance.now() - startedAt, startedAt });
    };
    const finished = (timings: Map<string, Timing>) =>
      eventually(() => [...timings.keys()].every((id) => confirmedAt.has(id)), {
        timeoutMs: 300_000,
        intervalMs: 100,
        what: 'every saga to complete',
      });

    // Warm-up: JIT, pools, consumers.
    const warmup = new Map<string, Timing>();
    await Promise.all(Array.from({ length: 100 }, () => place(warmup)));
    await finished(warmup);

    const burst = new Map<string, Timing>();
    let burstStarted = 0;
    let issued = 0;
    const spent = await cost.measure(async () => {
      burstStarted = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (issued++ < ORDERS) await place(burst);
        }),
      );
      await finished(burst);
    });
    const burstEnded = Math.max(...[...burst.keys()].map((id) => confirmedAt.get(id)!));

    const paced = new Map<string, Timing>();
    const pacedSpent = await cost.measure(async () => {
      const pacedStarted = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < PACED_RATE * PACED_SECONDS; i++) {
        const wait = pacedStarted + (i * 1000) / PACED_RATE - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        inFlight.push(place(paced));
      }
      await Promise.all(inFlight);
      await finished(paced);
    });

    const stats = (timings: Map<string, Timing>) => {
      const post = [...timings.values()].map((t) => t.postMs).sort((a, b) => a - b);
      const saga = [...timings]
        .map(([id, t]) => confirmedAt.get(id)! - t.startedAt)
        .sort((a, b) => a - b);
      return { post, saga };
    };
    const b = stats(burst);
    const p = stats(paced);
    printTable(`Latency (ms)`, [
      latencyRow(`POST /orders, ${CONCURRENCY} concurrent clients`, b.post),
      latencyRow(`saga to COMPLETED, ${CONCURRENCY} concurrent clients`, b.saga),
      latencyRow(`POST /orders at ${PACED_RATE}/s`, p.post),
      latencyRow(`saga to COMPLETED at ${PACED_RATE}/s`, p.saga),
    ]);
    const throughput = perSecond(burst.size, burstEnded - burstStarted);
    printTable('Throughput', [{ measure: 'completed sagas/s', value: throughput }]);
    const burstColumn = `${CONCURRENCY} concurrent clients`;
    const pacedColumn = `${PACED_RATE}/s`;
    const rows = costRows([
      [burstColumn, spent, burst.size],
      [pacedColumn, pacedSpent, paced.size],
    ]);
    printTable('Cost per completed saga', rows);
    const burstCpuMs = systemCpuMs(spent) / burst.size;
    process.stdout.write(
      `\nsagas/s this machine could sustain on its ${cpus().length} cores at the cost with ${burstColumn}: ${Math.round((cpus().length * 1000) / burstCpuMs)}; load average now ${loadAverage()}\n`,
    );
    const postP99 = percentile(p.post, 99);
    const sagaP99 = percentile(p.saga, 99);
    process.stdout.write(
      `\ntargets: >= 300 sagas/s (${throughput >= 300 ? 'met' : 'MISSED'}), POST p99 <= 50 ms at ${PACED_RATE}/s (${postP99 <= 50 ? 'met' : 'MISSED'}), saga p99 <= 1 s at ${PACED_RATE}/s (${sagaP99 <= 1000 ? 'met' : 'MISSED'})\n`,
    );
  } catch (error) {
    // What the apps said last is usually why the work did not finish.
    for (const [name, app] of Object.entries(system.sagaApps())) {
      process.stderr.write(`--- ${name} stderr (tail)\n${app.stderr().slice(-4000)}\n`);
    }
    throw error;
  } finally {
    await cost.close();
    await system.stop();
    if (sink) process.stdout.write(`OTLP sink received: ${await sink.stop()}\n`);
  }
}

/** CPU ms of the whole system under test: the apps, nats-server and Postgres. */
function systemCpuMs(cost: Cost): number {
  return Object.values(cost.cpuMs).reduce((a, b) => a + b, 0);
}

/**
 * One row per measure, one column per piece of work: what a completed saga cost. Batches grow with
 * the load, so a saga costs more at a modest steady rate than in a burst.
 */
function costRows(
  work: [column: string, cost: Cost, sagas: number][],
): Record<string, string | number>[] {
  const row = (measure: string, value: (cost: Cost) => number) => ({
    measure,
    ...Object.fromEntries(work.map(([column, cost, sagas]) => [column, value(cost) / sagas])),
  });
  return [
    row('CPU ms, whole system', systemCpuMs),
    ...Object.keys(work[0]![1].cpuMs).map((part) =>
      row(`CPU ms, ${part}`, (cost) => cost.cpuMs[part]!),
    ),
    row('CPU ms, load generator (not in the total)', (cost) => cost.loadGeneratorCpuMs),
    row('CPU ms, payment stand-in (not in the total)', (cost) => cost.paymentStandInCpuMs),
    row('Postgres transactions', (cost) => cost.transactions),
    row('Postgres statements', (cost) => cost.statements),
  ];
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:saga failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
