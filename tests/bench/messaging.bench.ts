import { sink } from './messaging-tracing';
import 'reflect-metadata';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { DataSource } from 'typeorm';
import { createEvent, InventoryLowStockV1 } from '@lib/contracts';
import { ensureStreams, NatsClient, Outbox, OutboxPublisher, OutboxRelay } from '@lib/messaging';
import { BaseConfig } from '@lib/platform';
import { inSpan } from '@lib/observability';
import { freshSchema } from '../harness/database';
import { OPERATOR_USER } from '../../infra/nats/permissions';
import { startNatsServer } from '../harness/nats-server';
import { startPlatformApp, testConfig } from '../harness/platform-app';
import { sleep } from '../harness/wait';
import {
  benchModule,
  InboxHandler,
  NoopHandler,
  publishAll,
  rawConsume,
  SCHEMA,
  transportConsume,
} from './messaging-consumers';
import { loadAverage, median, percentile, perSecond, printTable } from './stats';

/*
 * npm run bench:messaging [-- events]; BENCH_TRACING=1 (or 0.1) npm run bench:messaging runs it with
 * tracing on at that ratio, to a local OTLP sink (tests/bench/tracing-sink.ts).
 * (a) raw nats.js consume-and-ack, (b) the project's transport into a no-op handler, without and
 * with the Postgres inbox, (c) outbox: commit-to-publish latency at a steady 500 events/s and
 * drain rate. Runs on a private nats-server and the local Postgres (test database).
 */
const EVENTS = Number(process.argv[2] ?? 20_000);
const ROUNDS = 3;

async function outboxLatency(natsEnv: Record<string, string>, rate: number, seconds: number) {
  const config = testConfig(BaseConfig, natsEnv, { OUTBOX_POLL_MS: '1000' });
  const module = benchModule('bench-outbox', NoopHandler, config);
  const app = await startPlatformApp(module, 'bench-outbox', config);
  const dataSource = app.get(DataSource);
  const outbox = app.get(Outbox);
  const nc = app.get(NatsClient).nc;
  // The first second warms up the publishing path (JIT, pool) and is not measured.
  const warmup = rate;
  const total = rate * seconds + warmup;
  const committedAt = new Map<string, { at: number; measured: boolean }>();
  const latencies: number[] = [];
  let arrived = 0;
  const received = new Promise<void>((resolve) => {
    nc.subscribe('inventory.low-stock.v1', {
      callback: (_err, msg) => {
        const id = msg.headers?.get('Nats-Msg-Id') ?? '';
        const commit = committedAt.get(id);
        if (commit === undefined) return;
        committedAt.delete(id);
        if (commit.measured) latencies.push(performance.now() - commit.at);
        if (++arrived === total) resolve();
      },
    });
  });
  await nc.flush();
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Stamped just before COMMIT: the row is published after it, so no arrival is missed.
    // Written as a request would, in a trace of its own when tracing is on.
    void inSpan('bench write', { parent: 'new-trace' }, () => {
      const event = createEvent(InventoryLowStockV1, {
        sku: `OUT-${i}`,
        available: 1,
        threshold: 2,
      });
      return dataSource.transaction(async (manager) => {
        await outbox.add(manager, [event]);
        committedAt.set(event.eventId, { at: performance.now(), measured: i >= warmup });
      });
    });
  }
  await received;
  latencies.sort((a, b) => a - b);

  // Drain rate: a backlog the process could not publish (its publisher stopped, as when NATS is
  // away), taken by the relay once it is old enough.
  const relay = app.get(OutboxRelay);
  await relay.beforeApplicationShutdown();
  await app.get(OutboxPublisher).beforeApplicationShutdown();
  const backlog = Array.from({ length: EVENTS }, (_, i) =>
    createEvent(InventoryLowStockV1, { sku: `BACKLOG-${i}`, available: 1, threshold: 2 }),
  );
  for (let i = 0; i < backlog.length; i += 1000) {
    await dataSource.transaction((manager) => outbox.add(manager, backlog.slice(i, i + 1000)));
  }
  await sleep(config.OUTBOX_RELAY_AFTER_MS);
  const drainStarted = performance.now();
  while ((await relay.publishBatch()) > 0);
  const drainRate = perSecond(EVENTS, performance.now() - drainStarted);
  await app.close();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), drainRate };
}

async function main(): Promise<void> {
  const server = await startNatsServer();
  await freshSchema(SCHEMA);
  const nc = await server.connect();
  try {
    await ensureStreams(await jetstreamManager(nc), 1, 'operator');
    const js = jetstream(nc);
    process.stdout.write(
      `bench:messaging: ${EVENTS} events, ${sink?.label ?? 'tracing off'}, load average ${loadAverage()}\n`,
    );

    const publishRate = await publishAll(js, EVENTS);
    // Raw and transport alternate over several rounds, each with a new durable reading the same
    // events from the start; the medians resist a noisy neighbour on a 2-core machine.
    const raws: number[] = [];
    const noops: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      raws.push((await rawConsume(nc, `bench-raw-${round}`, EVENTS)).rate);
      const transport = await transportConsume(
        server.env(OPERATOR_USER),
        `bench-noop-${round}`,
        NoopHandler,
        EVENTS,
      );
      noops.push(transport.rate);
    }
    const raw = median(raws);
    const noop = median(noops);
    const { rate: inbox } = await transportConsume(
      server.env(OPERATOR_USER),
      'bench-inbox',
      InboxHandler,
      EVENTS,
    );
    const outbox = await outboxLatency(server.env(OPERATOR_USER), 500, 10);

    printTable(`Consume throughput (events/s; raw and no-op: median of ${ROUNDS} rounds)`, [
      { path: '(a) raw nats.js publish', 'events/s': publishRate, 'vs raw consume': '' },
      { path: '(a) raw nats.js consume + ack', 'events/s': raw, 'vs raw consume': '100%' },
      {
        path: '(b) transport, no-op handler',
        'events/s': noop,
        'vs raw consume': `${Math.round((noop / raw) * 100)}%`,
      },
      {
        path: '(b) transport + Postgres inbox',
        'events/s': inbox,
        'vs raw consume': `${Math.round((inbox / raw) * 100)}%`,
      },
    ]);
    printTable('Outbox to JetStream', [
      { measure: 'commit-to-publish p50 at 500/s (ms)', value: outbox.p50 },
      { measure: 'commit-to-publish p99 at 500/s (ms)', value: outbox.p99 },
      { measure: 'relay: backlog drain (rows/s)', value: outbox.drainRate },
    ]);
    process.stdout.write(
      `\ntargets: transport >= 60% of raw (${noop >= raw * 0.6 ? 'met' : 'MISSED'}), inbox >= 2000/s (${inbox >= 2000 ? 'met' : 'MISSED'}), outbox p99 <= 50 ms (${outbox.p99 <= 50 ? 'met' : 'MISSED'})\n`,
    );
  } finally {
    if (sink) process.stdout.write(`OTLP sink received: ${await sink.stop()}\n`);
    await nc.close();
    await server.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:messaging failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
