import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureStreams } from '@lib/messaging';
import { BaseConfig } from '@lib/platform';
import { OPERATOR_USER } from '../../infra/nats/permissions';
import { freshSchema } from '../../tests/harness/database';
import { startNatsServer } from '../../tests/harness/nats-server';
import {
  ConsumeRun,
  InboxHandler,
  NoopHandler,
  publishAll,
  rawConsume,
  SCHEMA,
  TRANSPORT_CONCURRENCY,
  transportConsume,
} from '../../tests/bench/messaging-consumers';
import { runPlatformSaga } from '../../tests/bench/platform-saga';
import { sagaWorkloadFromArgs, SagaRun, SagaWorkload } from '../../tests/bench/saga-workload';
import { loadAverage, median, percentile, printTable } from '../../tests/bench/stats';
import { runPeerSaga, SystemCost } from './peer-saga';
import { FrontCost, HTTP_FRONTS, HttpFront, measureFront } from './http-front';
import { pluginConsume } from './plugin-transport';
import { HopCost, measureHops } from './durable-hop';

/*
 * npm run bench:peers [-- orders concurrency paced-rate paced-seconds] [--rounds 3] [--events 20000]
 *   [--only saga|transport|http|hops]
 * (a) the order saga on this platform, DBOS Transact and Restate, same workload as bench:saga, same
 * Postgres; (b) the project's JetStream transport against @nestjs-plugins/nestjs-nats-jetstream-transport
 * and raw nats.js on one private nats-server; (c) the HTTP front alone (node:http, as the peers'
 * fronts, Express, Nest on Express, and Nest on Fastify, as the platform's) at the paced rate;
 * (d) one durable hop (publish, delivery, ack) with nothing but nats.js at the paced rate, its
 * messages alone or in batches. All in alternating rounds (each round starts with the next system),
 * printing every round and the medians. bench/peers/README.md says what differs.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    events: { type: 'string', default: '20000' },
    only: { type: 'string' },
  },
});
const SECTIONS = ['saga', 'transport', 'http', 'hops'];
if (values.only !== undefined && !SECTIONS.includes(values.only)) {
  throw new Error(`--only takes ${SECTIONS.join(', ')}, not ${values.only}`);
}
const ROUNDS = Number(values.rounds);
const EVENTS = Number(values.events);
const WORKLOAD = sagaWorkloadFromArgs(positionals);

type SagaSystemName = 'platform' | 'DBOS' | 'Restate';
const SAGA_SYSTEMS: SagaSystemName[] = ['platform', 'DBOS', 'Restate'];

function runSaga(system: SagaSystemName): Promise<SagaRun<SystemCost>> {
  return system === 'platform' ? runPlatformSaga(WORKLOAD) : runPeerSaga(system, WORKLOAD);
}

/** Round r starts with the r-th entry: no system always runs first or on a warmer machine. */
function inRoundOrder<T>(entries: T[], round: number): T[] {
  const shift = (entries.length + round - 1) % entries.length;
  return [...entries.slice(shift), ...entries.slice(0, shift)];
}

interface SagaFigures {
  'sagas/s': number;
  'POST p50': number;
  'POST p99': number;
  'saga p50': number;
  'saga p99': number;
  'rate POST p50': number;
  'rate POST p99': number;
  'rate saga p50': number;
  'rate saga p99': number;
  'CPU ms/saga': number;
  'rate CPU ms/saga': number;
}

function sagaFigures(run: SagaRun<SystemCost>): SagaFigures {
  const { burst, paced } = run;
  return {
    'sagas/s': run.sagasPerSecond,
    'POST p50': percentile(burst.post, 50),
    'POST p99': percentile(burst.post, 99),
    'saga p50': percentile(burst.saga, 50),
    'saga p99': percentile(burst.saga, 99),
    'rate POST p50': percentile(paced.post, 50),
    'rate POST p99': percentile(paced.post, 99),
    'rate saga p50': percentile(paced.saga, 50),
    'rate saga p99': percentile(paced.saga, 99),
    'CPU ms/saga': totalCpuMs(burst.cost) / burst.sagas,
    'rate CPU ms/saga': totalCpuMs(paced.cost) / paced.sagas,
  };
}

function totalCpuMs(cost: SystemCost): number {
  return Object.values(cost.cpuMs).reduce((a, b) => a + b, 0);
}

async function benchSagas(workload: SagaWorkload): Promise<void> {
  const { orders, concurrency, pacedRate, pacedSeconds } = workload;
  process.stdout.write(
    `\n(a) order saga: ${orders} orders at concurrency ${concurrency}, then ${pacedRate}/s for ${pacedSeconds} s; ${ROUNDS} rounds\n`,
  );
  const runs = new Map<SagaSystemName, SagaRun<SystemCost>[]>(SAGA_SYSTEMS.map((s) => [s, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const system of inRoundOrder(SAGA_SYSTEMS, round)) {
      const loadBefore = loadAverage();
      const run = await runSaga(system);
      runs.get(system)!.push(run);
      const f = sagaFigures(run);
      process.stdout.write(
        `round ${round} ${system}: ${f['sagas/s']} sagas/s, ${f['CPU ms/saga'].toFixed(1)} CPU ms/saga (burst), ${f['rate CPU ms/saga'].toFixed(1)} at ${pacedRate}/s, saga p99 ${f['rate saga p99'].toFixed(0)} ms and POST p99 ${f['rate POST p99'].toFixed(0)} ms at ${pacedRate}/s; load average ${loadBefore} before, ${loadAverage()} after\n`,
      );
    }
  }

  const figures = (system: SagaSystemName) => runs.get(system)!.map(sagaFigures);
  const medians = (system: SagaSystemName) => {
    const all = figures(system);
    return Object.fromEntries(
      Object.keys(all[0]!).map((key) => [key, median(all.map((f) => f[key as keyof SagaFigures]))]),
    ) as unknown as SagaFigures;
  };
  const platform = medians('platform');
  printTable(
    `Order saga, medians of ${ROUNDS} rounds (latencies in ms; "rate": at ${pacedRate}/s; CPU of the system's processes)`,
    SAGA_SYSTEMS.map((system) => ({ system, ...medians(system) })),
  );
  printTable(
    'Against this platform (medians; sagas/s: higher is better, CPU ms/saga: lower is better)',
    SAGA_SYSTEMS.map((system) => {
      const m = medians(system);
      return {
        system,
        'sagas/s': `${(m['sagas/s'] / platform['sagas/s']).toFixed(2)}×`,
        'CPU ms/saga': `${(m['CPU ms/saga'] / platform['CPU ms/saga']).toFixed(2)}×`,
        'rate CPU ms/saga': `${(m['rate CPU ms/saga'] / platform['rate CPU ms/saga']).toFixed(2)}×`,
        'rate saga p99': `${(m['rate saga p99'] / platform['rate saga p99']).toFixed(2)}×`,
        'rate POST p99': `${(m['rate POST p99'] / platform['rate POST p99']).toFixed(2)}×`,
      };
    }),
  );
  for (const system of SAGA_SYSTEMS) {
    const systemRuns = runs.get(system)!;
    const row = (measure: string, part: (cost: SystemCost) => number) => {
      const perSaga = (phase: 'burst' | 'paced') =>
        systemRuns.map((run) => part(run[phase].cost) / run[phase].sagas);
      const rounds = (values: number[]) => values.map((v) => v.toFixed(1)).join(' ');
      return {
        measure,
        burst: median(perSaga('burst')),
        [`${pacedRate}/s`]: median(perSaga('paced')),
        'burst, every round': rounds(perSaga('burst')),
        [`${pacedRate}/s, every round`]: rounds(perSaga('paced')),
      };
    };
    const parts = Object.keys(systemRuns[0]!.burst.cost.cpuMs);
    printTable(`${system}: per completed saga (medians, then every round)`, [
      ...parts.map((part) => row(`CPU ms, ${part}`, (cost) => cost.cpuMs[part]!)),
      row('CPU ms, whole system', totalCpuMs),
      row('CPU ms, load generator (not in the total)', (cost) => cost.loadGeneratorCpuMs),
    ]);
    printTable(
      `${system}: every round`,
      figures(system).map((f, i) => ({ round: i + 1, ...f })),
    );
  }
}

/** The apps' own NATS_CONCURRENCY when none is configured. */
const APPS_CONCURRENCY = new BaseConfig().NATS_CONCURRENCY;

type TransportPath =
  | 'raw nats.js'
  | 'ours'
  | "ours, the apps' concurrency"
  | 'ours, concurrency 1'
  | 'peer plugin'
  | 'ours + inbox';
const TRANSPORT_PATHS: TransportPath[] = [
  'raw nats.js',
  'ours',
  "ours, the apps' concurrency",
  'ours, concurrency 1',
  'peer plugin',
  'ours + inbox',
];

async function benchTransport(): Promise<void> {
  const server = await startNatsServer();
  const nc = await server.connect();
  const natsEnv = server.env(OPERATOR_USER);
  try {
    await freshSchema(SCHEMA);
    await ensureStreams(await jetstreamManager(nc), 1, 'operator');
    const publishRate = await publishAll(jetstream(nc), EVENTS);
    process.stdout.write(
      `\n(b) transport: ${EVENTS} events published at ${publishRate}/s, each path reading them all with a new durable; ${ROUNDS} rounds\n`,
    );
    // This process (every path's client) and nats-server, from each path's first event to its last.
    const pids = [process.pid, server.pid!];
    const consume: Record<TransportPath, (round: number) => Promise<ConsumeRun>> = {
      'raw nats.js': (round) => rawConsume(nc, `peers-raw-${round}`, EVENTS, pids),
      ours: (round) =>
        transportConsume(natsEnv, `peers-ours-${round}`, NoopHandler, EVENTS, { pids }),
      "ours, the apps' concurrency": (round) =>
        transportConsume(natsEnv, `peers-ours-apps-${round}`, NoopHandler, EVENTS, {
          concurrency: APPS_CONCURRENCY,
          pids,
        }),
      'ours, concurrency 1': (round) =>
        transportConsume(natsEnv, `peers-ours-c1-${round}`, NoopHandler, EVENTS, {
          concurrency: 1,
          pids,
        }),
      'peer plugin': (round) => pluginConsume(natsEnv, `peers-plugin-${round}`, EVENTS, pids),
      'ours + inbox': (round) =>
        transportConsume(natsEnv, `peers-inbox-${round}`, InboxHandler, EVENTS, { pids }),
    };
    const runs = new Map<TransportPath, ConsumeRun[]>(TRANSPORT_PATHS.map((p) => [p, []]));
    // Round 0 warms every path up (JIT, connections) and is not counted: a run reads its events in
    // well under a second, so the first one of a path would measure the compiler.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const path of inRoundOrder(TRANSPORT_PATHS, round)) {
        const run = await consume[path](round);
        if (round > 0) runs.get(path)!.push(run);
        const [client, nats] = run.cpuMsPerEvent.map((ms) => ms * 1000);
        process.stdout.write(
          `${round > 0 ? `round ${round}` : 'warm-up (not counted)'} ${path}: ${run.rate} events/s, ${(client! + nats!).toFixed(1)} CPU µs an event (client ${client!.toFixed(1)}, nats-server ${nats!.toFixed(1)})\n`,
        );
      }
    }
    const rate = (path: TransportPath) => median(runs.get(path)!.map((run) => run.rate));
    /** The median over the rounds of a CPU µs an event, picked from the client's and the server's. */
    const cpu = (path: TransportPath, pick: (client: number, nats: number) => number) =>
      median(runs.get(path)!.map(({ cpuMsPerEvent: [client, nats] }) => pick(client!, nats!))) *
      1000;
    const both = (client: number, nats: number) => client + nats;
    const ratio = (a: number, b: number) => `${Math.round((a / b) * 100)}%`;
    printTable(
      `Consume and ack, no-op handler unless said (events/s; ours: NATS_CONCURRENCY=${TRANSPORT_CONCURRENCY} as bench:messaging, the apps' default ${APPS_CONCURRENCY}, or 1)`,
      TRANSPORT_PATHS.map((path) => ({
        path,
        'events/s (median)': rate(path),
        'vs raw': ratio(rate(path), rate('raw nats.js')),
        'vs peer plugin': ratio(rate(path), rate('peer plugin')),
        rounds: runs
          .get(path)!
          .map((run) => run.rate)
          .join(' '),
      })),
    );
    printTable(
      'CPU µs an event, from the first event to the last (medians; the client is this process, Postgres not counted)',
      TRANSPORT_PATHS.map((path) => ({
        path,
        'client + nats-server': cpu(path, both).toFixed(1),
        client: cpu(path, (client) => client).toFixed(1),
        'nats-server': cpu(path, (_, nats) => nats).toFixed(1),
        'vs peer plugin': ratio(cpu(path, both), cpu('peer plugin', both)),
      })),
    );
  } finally {
    await nc.close();
    await server.destroy();
  }
}

async function benchHttpFronts({ pacedRate, pacedSeconds }: SagaWorkload): Promise<void> {
  process.stdout.write(
    `\n(c) HTTP front alone: POST /orders with nothing behind it, ${pacedRate}/s for ${pacedSeconds} s; ${ROUNDS} rounds\n`,
  );
  const fronts = Object.keys(HTTP_FRONTS) as HttpFront[];
  const costs = new Map<HttpFront, FrontCost[]>(fronts.map((front) => [front, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const front of inRoundOrder(fronts, round)) {
      const cost = await measureFront(front, pacedRate, pacedSeconds);
      costs.get(front)!.push(cost);
      process.stdout.write(
        `round ${round} ${front}: ${cost.cpuMsPerRequest.toFixed(2)} CPU ms a request, p50 ${cost.p50.toFixed(1)} ms, p99 ${cost.p99.toFixed(1)} ms\n`,
      );
    }
  }
  const m = (front: HttpFront, figure: keyof FrontCost) =>
    median(costs.get(front)!.map((cost) => cost[figure]));
  const platform = m('Nest + Fastify (the platform)', 'cpuMsPerRequest');
  printTable(
    `The server process's CPU per request at ${pacedRate}/s (medians; ms)`,
    fronts.map((front) => ({
      front,
      'CPU ms a request': m(front, 'cpuMsPerRequest').toFixed(2),
      'vs the platform': `${Math.round((m(front, 'cpuMsPerRequest') / platform) * 100)}%`,
      'p50 / p99': `${m(front, 'p50').toFixed(1)} / ${m(front, 'p99').toFixed(1)}`,
      rounds: costs
        .get(front)!
        .map((cost) => cost.cpuMsPerRequest.toFixed(2))
        .join(' '),
    })),
  );
}

/** Messages sent together in (d): alone, then as the platform's batch windows gather them. */
const HOP_BATCHES = [1, 2, 4, 8];

async function benchHops({ pacedRate, pacedSeconds }: SagaWorkload): Promise<void> {
  process.stdout.write(
    `\n(d) a durable hop alone: nothing but nats.js, ${pacedRate} round trips/s for ${pacedSeconds} s, in batches of ${HOP_BATCHES.join(', ')}; ${ROUNDS} rounds\n`,
  );
  const costs = new Map<number, HopCost[]>(HOP_BATCHES.map((batch) => [batch, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const batch of inRoundOrder(HOP_BATCHES, round)) {
      const cost = await measureHops(pacedRate, pacedSeconds, batch);
      costs.get(batch)!.push(cost);
      process.stdout.write(
        `round ${round} batches of ${batch}: ${cost.total.toFixed(3)} CPU ms a hop (clients ${cost.clients.toFixed(3)}, nats-server ${cost.natsServer.toFixed(3)})\n`,
      );
    }
  }
  const m = (batch: number, figure: keyof HopCost) =>
    median(costs.get(batch)!.map((cost) => cost[figure])).toFixed(3);
  printTable(
    `CPU ms per hop (a JetStream publish awaiting its ack, the delivery, its ack) at ${pacedRate} round trips/s (medians)`,
    HOP_BATCHES.map((batch) => ({
      'messages together': batch,
      'CPU ms a hop': m(batch, 'total'),
      'the two Node processes': m(batch, 'clients'),
      'nats-server': m(batch, 'natsServer'),
      rounds: costs
        .get(batch)!
        .map((cost) => cost.total.toFixed(3))
        .join(' '),
    })),
  );
}

async function main(): Promise<void> {
  process.stdout.write(`bench:peers: load average ${loadAverage()}\n`);
  if (values.only === undefined || values.only === 'saga') await benchSagas(WORKLOAD);
  if (values.only === undefined || values.only === 'transport') await benchTransport();
  if (values.only === undefined || values.only === 'http') await benchHttpFronts(WORKLOAD);
  if (values.only === undefined || values.only === 'hops') await benchHops(WORKLOAD);
  process.stdout.write(`\nload average now ${loadAverage()}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:peers failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
