import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import {
  createEvent,
  EventEnvelope,
  InventoryLowStockV1,
  InventoryLowStockV1Payload,
  OrderCancelledV1,
} from '@lib/contracts';
import { BaseConfig } from '@lib/platform';
import { freshSchema, query, TEST_DATABASE_URL } from '../../../tests/harness/database';
import { publishEvent } from '../../../tests/harness/events';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { OPERATOR_USER } from '../../../infra/nats/permissions';
import { startPlatformApp, testConfig } from '../../../tests/harness/platform-app';
import { readStream } from '../../../tests/harness/streams';
import { startTcpProxy, TcpProxy } from '../../../tests/harness/tcp-proxy';
import { metricValue } from '../../../tests/harness/metrics';
import { eventually, sleep } from '../../../tests/harness/wait';
import { DeadLetter } from './dead-letters';
import { EFFECTS_TABLE_SQL, Probe, ProbeModule } from '../test/probe.app';
import { messagingMetrics } from './messaging.metrics';
import { NatsClient } from './nats.client';
import { durableName, ensureStreams } from './stream-setup';

const SCHEMA = 'messaging_outages_test';
const SERVICE = 'probe';
const MAX_DELIVER = 3;
const ACK_WAIT_MS = 1500;
const LOW_STOCK = durableName(SERVICE, InventoryLowStockV1.subject);
const CANCELLED = durableName(SERVICE, OrderCancelledV1.subject);

/** The transport while Postgres, or the DLQ, is out of reach; and compensations that keep failing. */
describe('JetStream transport when a dependency is down', () => {
  let nats: TestNatsServer;
  let postgres: TcpProxy;
  let app: NestFastifyApplication | undefined;
  let probe: Probe;
  let client: NatsClient;

  beforeAll(async () => {
    nats = await startNatsServer();
    const database = new URL(TEST_DATABASE_URL);
    postgres = await startTcpProxy({ host: database.hostname, port: Number(database.port) });
    await freshSchema(SCHEMA);
    const config = testConfig(BaseConfig, nats.env(OPERATOR_USER), {
      // The app reaches Postgres through the proxy only, so the test can take it away.
      DATABASE_URL: postgres.through(TEST_DATABASE_URL),
      NATS_MAX_DELIVER: String(MAX_DELIVER),
      // Short, so a message the server would redeliver comes back within a test.
      NATS_ACK_WAIT_MS: String(ACK_WAIT_MS),
    });
    app = await startPlatformApp(ProbeModule.forRoot(SERVICE, SCHEMA, config), SERVICE, config);
    await query(EFFECTS_TABLE_SQL(SCHEMA));
    probe = app.get(Probe);
    client = app.get(NatsClient);
  });

  afterEach(() => postgres.restore());

  afterAll(async () => {
    await app?.close();
    await nats?.destroy();
    await postgres?.close();
  });

  const lowStock = (sku: string): EventEnvelope<InventoryLowStockV1Payload> =>
    createEvent(InventoryLowStockV1, { sku, available: 1, threshold: 5 });

  const publish = (event: EventEnvelope) => publishEvent(client.js, event);

  async function effects(sku: string): Promise<number> {
    const rows = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.effects WHERE sku = $1`,
      [sku],
    );
    return rows[0]?.n ?? 0;
  }

  async function deadLetters(): Promise<DeadLetter[]> {
    return (await readStream<DeadLetter>(client.jsm, 'DLQ')).map((message) => message.body);
  }

  const consumer = (stream: string, durable: string) => client.jsm.consumers.info(stream, durable);

  it('holds what it is given while Postgres is unreachable and handles it once Postgres is back, spending no delivery', async () => {
    await publish(lowStock('PG-BEFORE'));
    await eventually(async () => (await effects('PG-BEFORE')) === 1, { what: 'a first effect' });

    postgres.cut();
    const skus = ['PG-DOWN-1', 'PG-DOWN-2', 'PG-DOWN-3'];
    const sequences: number[] = [];
    for (const sku of skus) sequences.push(await publish(lowStock(sku)));
    await eventually(async () => (await metricValue(messagingMetrics.eventsHeld)) === skus.length, {
      what: 'every message held',
    });
    expect(
      await metricValue(messagingMetrics.dependencyAvailable, { dependency: 'postgres' }),
    ).toBe(0);
    expect(await metricValue(messagingMetrics.consumersPaused)).toBeGreaterThan(0);
    // Past two ack waits: a message not kept from redelivery would have come back by now.
    await sleep(ACK_WAIT_MS * 2 + 500);
    expect((await consumer('INVENTORY', LOW_STOCK)).num_redelivered).toBe(0);

    postgres.restore();
    for (const sku of skus) {
      await eventually(async () => (await effects(sku)) === 1, { what: `the effect of ${sku}` });
    }
    // The first reached its handler before the outage was known, and again after it: the same
    // delivery both times. The others waited without reaching it.
    for (const sku of skus) {
      const deliveries = probe.of(sku).map((d) => d.deliveryCount);
      expect(deliveries.length).toBeGreaterThanOrEqual(1);
      expect(new Set(deliveries)).toEqual(new Set([1]));
    }
    await eventually(async () => (await consumer('INVENTORY', LOW_STOCK)).num_ack_pending === 0);
    expect(
      await metricValue(messagingMetrics.dependencyAvailable, { dependency: 'postgres' }),
    ).toBe(1);
    expect(await metricValue(messagingMetrics.eventsHeld)).toBe(0);
    expect(await metricValue(messagingMetrics.consumersPaused)).toBe(0);
    const lettered = (await deadLetters()).map((letter) => letter.sequence);
    expect(lettered.filter((seq) => sequences.includes(seq))).toEqual([]);
  }, 30_000);

  it('retries a compensation past max_deliver until it is done, and reports it pending meanwhile', async () => {
    const orderId = randomUUID();
    const cancel = createEvent(OrderCancelledV1, { orderId, reason: `fail-${MAX_DELIVER + 2}` });
    const seq = await publish(cancel);
    await eventually(
      async () =>
        (await metricValue(messagingMetrics.compensationsPending, { consumer: CANCELLED })) === 1,
      { what: 'the compensation reported pending' },
    );
    await eventually(async () => (await effects(`cancel:${orderId}`)) === 1, {
      what: 'the compensation done',
    });
    expect(probe.of(`cancel:${orderId}`).map((d) => d.deliveryCount)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await metricValue(messagingMetrics.compensationsPending, { consumer: CANCELLED })).toBe(
      0,
    );
    expect((await consumer('ORDERS', CANCELLED)).config.max_deliver).toBe(-1);
    await eventually(async () => (await consumer('ORDERS', CANCELLED)).num_ack_pending === 0);
    expect((await deadLetters()).filter((letter) => letter.sequence === seq)).toEqual([]);
  }, 30_000);

  it('still dead-letters a compensation that can never be handled, once', async () => {
    const cancel = createEvent(OrderCancelledV1, { orderId: randomUUID(), reason: 'permanent' });
    const seq = await publish(cancel);
    const letter = await eventually(async () =>
      (await deadLetters()).find((l) => l.stream === 'ORDERS' && l.sequence === seq),
    );
    expect(letter).toMatchObject({
      consumer: CANCELLED,
      deliveries: 1,
      error: 'PermanentEventError: no payment for that order',
    });
  });

  it('holds a message to dead-letter while the DLQ cannot take it, and dead-letters it once it can', async () => {
    await client.jsm.streams.delete('DLQ');
    const seq = await publish(lowStock('PERMANENT-DLQ-1'));
    await eventually(
      async () =>
        (await metricValue(messagingMetrics.dependencyAvailable, { dependency: 'dlq' })) === 0,
      { what: 'the DLQ known down' },
    );
    expect(await metricValue(messagingMetrics.eventsHeld)).toBe(1);
    // Past two ack waits: neither acked nor let go, so the server still waits for its verdict.
    await sleep(ACK_WAIT_MS * 2 + 500);
    const waiting = await consumer('INVENTORY', LOW_STOCK);
    expect(waiting.num_ack_pending).toBe(1);
    expect(waiting.num_redelivered).toBe(0);

    await ensureStreams(client.jsm, 1, SERVICE);
    const letter = await eventually(async () =>
      (await deadLetters()).find((l) => l.stream === 'INVENTORY' && l.sequence === seq),
    );
    expect(letter).toMatchObject({
      deliveries: 1,
      error: 'PermanentEventError: order does not exist',
    });
    // Only the dead-lettering was tried again, not the handler.
    expect(probe.of('PERMANENT-DLQ-1')).toHaveLength(1);
    await eventually(async () => (await consumer('INVENTORY', LOW_STOCK)).num_ack_pending === 0);
    expect(await metricValue(messagingMetrics.dependencyAvailable, { dependency: 'dlq' })).toBe(1);
  }, 30_000);

  it('hands the messages it holds back to the server when it closes during an outage', async () => {
    postgres.cut();
    await publish(lowStock('PG-CLOSING-1'));
    await eventually(async () => (await metricValue(messagingMetrics.eventsHeld)) === 1, {
      what: 'the message held',
    });
    await app!.close();
    app = undefined;
    expect(await metricValue(messagingMetrics.eventsHeld)).toBe(0);
  });
});
