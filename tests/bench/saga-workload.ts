import { eventually } from '../harness/wait';
import { perSecond } from './stats';

/**
 * The order saga workload of bench:saga and bench:peers: a burst of N orders from C concurrent
 * clients, then a paced rate for some seconds, each order one unit of one of 20 SKUs, after a
 * burst of the same size that is not counted; the system's Postgres statistics are brought up to
 * date before each measured phase. What a system answers to POST /orders and when its saga
 * completes are all it needs to tell.
 */
export interface SagaWorkload {
  orders: number;
  concurrency: number;
  pacedRate: number;
  pacedSeconds: number;
}

export const SAGA_SKUS = Array.from({ length: 20 }, (_, i) => `BENCH-${i}`);

/** `npm run bench:saga [-- orders concurrency paced-rate paced-seconds]`; bench:peers takes the same. */
export function sagaWorkloadFromArgs(args: string[]): SagaWorkload {
  return {
    orders: Number(args[0] ?? 2000),
    concurrency: Number(args[1] ?? 32),
    pacedRate: Number(args[2] ?? 150),
    pacedSeconds: Number(args[3] ?? 10),
  };
}

/** A system the workload runs on. */
export interface SagaTarget<Cost> {
  /** Places an order for one unit of `sku`; answers its id once the system has accepted it. */
  placeOrder(sku: string): Promise<string>;
  /** When each order's saga completed (performance.now()), as the system tells it. */
  completedAt: ReadonlyMap<string, number>;
  /** What the system spent on `work` (CPU per process, statements...). */
  measure(work: () => Promise<void>): Promise<Cost>;
  /** Brings the planner's statistics of the system's Postgres databases up to date (ANALYZE). */
  analyze(): Promise<void>;
}

export interface SagaPhase<Cost> {
  /** POST /orders latencies (ms), sorted. */
  post: number[];
  /** POST to completed saga (ms), sorted. */
  saga: number[];
  sagas: number;
  cost: Cost;
}

export interface SagaRun<Cost> {
  burst: SagaPhase<Cost>;
  paced: SagaPhase<Cost>;
  /** Completed sagas per second in the burst, from its first POST to its last completion. */
  sagasPerSecond: number;
}

interface Timing {
  postMs: number;
  startedAt: number;
}

export async function runSagaWorkload<Cost>(
  target: SagaTarget<Cost>,
  workload: SagaWorkload,
): Promise<SagaRun<Cost>> {
  const { orders, concurrency, pacedRate, pacedSeconds } = workload;
  let next = 0;
  const place = async (timings: Map<string, Timing>): Promise<void> => {
    const startedAt = performance.now();
    const orderId = await target.placeOrder(SAGA_SKUS[next++ % SAGA_SKUS.length]!);
    timings.set(orderId, { postMs: performance.now() - startedAt, startedAt });
  };
  const finished = (timings: Map<string, Timing>) =>
    eventually(() => [...timings.keys()].every((id) => target.completedAt.has(id)), {
      timeoutMs: 300_000,
      intervalMs: 100,
      what: 'every saga to complete',
    });

  const placeAll = async (count: number, timings: Map<string, Timing>): Promise<void> => {
    let issued = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (issued++ < count) await place(timings);
      }),
    );
  };

  // Warm-up, not counted: the JIT, pools and consumers, and tables holding what a burst leaves.
  const warmup = new Map<string, Timing>();
  await placeAll(orders, warmup);
  await finished(warmup);
  // Production Postgres runs autovacuum, whose ANALYZE keeps the planner's statistics current as
  // tables grow (and so the plans that prepared statements keep); these machines run it off. Without
  // this, every statement would keep the plan made when its tables were a page or two.
  await target.analyze();

  const burst = new Map<string, Timing>();
  let burstStarted = 0;
  const burstCost = await target.measure(async () => {
    burstStarted = performance.now();
    await placeAll(orders, burst);
    await finished(burst);
  });
  const burstEnded = Math.max(...[...burst.keys()].map((id) => target.completedAt.get(id)!));
  await target.analyze();

  const paced = new Map<string, Timing>();
  const pacedCost = await target.measure(async () => {
    const pacedStarted = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < pacedRate * pacedSeconds; i++) {
      const wait = pacedStarted + (i * 1000) / pacedRate - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(place(paced));
    }
    await Promise.all(inFlight);
    await finished(paced);
  });

  const phase = (timings: Map<string, Timing>, cost: Cost): SagaPhase<Cost> => ({
    post: [...timings.values()].map((t) => t.postMs).sort((a, b) => a - b),
    saga: [...timings]
      .map(([id, t]) => target.completedAt.get(id)! - t.startedAt)
      .sort((a, b) => a - b),
    sagas: timings.size,
    cost,
  });
  return {
    burst: phase(burst, burstCost),
    paced: phase(paced, pacedCost),
    sagasPerSecond: perSecond(burst.size, burstEnded - burstStarted),
  };
}
