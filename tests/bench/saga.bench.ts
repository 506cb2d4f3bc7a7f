import 'reflect-metadata';
import { cpus } from 'node:os';
import { Cost } from './saga-cost';
import { runPlatformSaga, systemCpuMs } from './platform-saga';
import { sagaWorkloadFromArgs } from './saga-workload';
import { startTracingSink } from './tracing-sink';
import { latencyRow, loadAverage, percentile, printTable } from './stats';

/*
 * npm run bench:saga [-- orders concurrency paced-rate paced-seconds]; BENCH_TRACING=1 (or 0.1) npm run bench:saga
 * runs the apps with tracing on at that ratio, to a local OTLP sink (tests/bench/tracing-sink.ts).
 * Orders through POST /orders with the order and inventory apps as processes on a private
 * nats-server and the local Postgres (tests/bench/platform-saga.ts).
 * (1) throughput: N orders from C concurrent clients; (2) latency: 150 orders/s for 10 s. Both after
 * N orders that are not counted, and an ANALYZE before each (tests/bench/saga-workload.ts).
 * The cost of a saga during each is measured on the system's own processes (CPU time, transactions,
 * statements), so it can be compared across machines and survives other load on this one.
 */
const WORKLOAD = sagaWorkloadFromArgs(process.argv.slice(2));

async function main(): Promise<void> {
  const { orders, concurrency, pacedRate, pacedSeconds } = WORKLOAD;
  const sink = startTracingSink();
  try {
    process.stdout.write(
      `bench:saga: ${orders} orders at concurrency ${concurrency}, then ${pacedRate}/s for ${pacedSeconds} s, after ${orders} not counted; ANALYZE before each; ${sink?.label ?? 'tracing off'}; load average ${loadAverage()}\n`,
    );
    const { burst, paced, sagasPerSecond } = await runPlatformSaga(WORKLOAD, sink?.env);
    printTable(`Latency (ms)`, [
      latencyRow(`POST /orders, ${concurrency} concurrent clients`, burst.post),
      latencyRow(`saga to COMPLETED, ${concurrency} concurrent clients`, burst.saga),
      latencyRow(`POST /orders at ${pacedRate}/s`, paced.post),
      latencyRow(`saga to COMPLETED at ${pacedRate}/s`, paced.saga),
    ]);
    printTable('Throughput', [{ measure: 'completed sagas/s', value: sagasPerSecond }]);
    const burstColumn = `${concurrency} concurrent clients`;
    const pacedColumn = `${pacedRate}/s`;
    const rows = costRows([
      [burstColumn, burst.cost, burst.sagas],
      [pacedColumn, paced.cost, paced.sagas],
    ]);
    printTable('Cost per completed saga', rows);
    const burstCpuMs = systemCpuMs(burst.cost) / burst.sagas;
    process.stdout.write(
      `\nsagas/s this machine could sustain on its ${cpus().length} cores at the cost with ${burstColumn}: ${Math.round((cpus().length * 1000) / burstCpuMs)}; load average now ${loadAverage()}\n`,
    );
    const postP99 = percentile(paced.post, 99);
    const sagaP99 = percentile(paced.saga, 99);
    process.stdout.write(
      `\ntargets: >= 300 sagas/s (${sagasPerSecond >= 300 ? 'met' : 'MISSED'}), POST p99 <= 50 ms at ${pacedRate}/s (${postP99 <= 50 ? 'met' : 'MISSED'}), saga p99 <= 1 s at ${pacedRate}/s (${sagaP99 <= 1000 ? 'met' : 'MISSED'})\n`,
    );
  } finally {
    if (sink) process.stdout.write(`OTLP sink received: ${await sink.stop()}\n`);
  }
}

/**
 * One row per measure, one column per piece of work: what a completed saga cost. Batches grow with
 * the load, so a saga costs more at a modest steady rate than in a burst.
 */
function costRows(
  work: [column: string, cost: Cost, sagas: number][],
): Record<string, string | number>[] {
  const perPhase = (measure: string, value: (cost: Cost, sagas: number) => number) => ({
    measure,
    ...Object.fromEntries(work.map(([column, cost, sagas]) => [column, value(cost, sagas)])),
  });
  const row = (measure: string, value: (cost: Cost) => number) =>
    perPhase(measure, (cost, sagas) => value(cost) / sagas);
  return [
    row('CPU ms, whole system', systemCpuMs),
    ...Object.keys(work[0]![1].cpuMs).map((part) =>
      row(`CPU ms, ${part}`, (cost) => cost.cpuMs[part]!),
    ),
    row('CPU ms, load generator (not in the total)', (cost) => cost.loadGeneratorCpuMs),
    row('CPU ms, payment stand-in (not in the total)', (cost) => cost.paymentStandInCpuMs),
    row('Postgres transactions', (cost) => cost.transactions),
    row('Postgres statements', (cost) => cost.statements),
    // Not per saga: how fast the machine was. The load generator does the same work for every
    // order in every run, so the ratio stays put when a shared machine runs slower for a while
    // (other guests on its host), which the CPU ms above do not.
    perPhase(
      'whole system ÷ load generator, CPU',
      (cost) => systemCpuMs(cost) / cost.loadGeneratorCpuMs,
    ),
    perPhase('CPU time stolen by the hypervisor, %', (cost) => cost.stolenPercent),
  ];
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:saga failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
