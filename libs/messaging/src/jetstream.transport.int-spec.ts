import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import {
  createEvent,
  EventEnvelope,
  InventoryCommittedV1,
  InventoryLowStockV1,
  InventoryLowStockV1Payload,
} from '@lib/contracts';
import { BaseConfig } from '@lib/platform';
import { freshSchema, query } from '../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { OPERATOR_USER } from '../../../infra/nats/permissions';
import { startPlatformApp, testConfig } from '../../../tests/harness/platform-app';
import { readStream } from '../../../tests/harness/streams';
import { metricValue } from '../../../tests/harness/metrics';
import { eventually, sleep } from '../../../tests/harness/wait';
import { DeadLetter } from './dead-letters';
import { EFFECTS_TABLE_SQL, Probe, ProbeModule } from '../test/probe.app';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { messagingMetrics } from './messaging.metrics';
import { NatsClient } from './nats.client';
import { durableName } from './stream-setup';
import { pullBatch } from './jetstream.transport';

const SCHEMA = 'messaging_transport_test';
const SERVICE = 'probe';
const MAX_DELIVER = 3;
const ACK_WAIT_MS = 1500;

describe('JetStream transport', () => {
  let nats: TestNatsServer;
  let app: NestFastifyApplication;
  let probe: Probe;
  let client: NatsClient;

  beforeAll(async () => {
    nats = await startNatsServer();
    await freshSchema(SCHEMA);
    const config = testConfig(BaseConfig, nats.env(OPERATOR_USER), {
      NATS_MAX_DELIVER: String(MAX_DELIVER),
      // Short, so a message the server would redeliver comes back within a test.
      NATS_ACK_WAIT_MS: String(ACK_WAIT_MS),
    });
    app = await startPlatformApp(ProbeModule.forRoot(SERVICE, SCHEMA, config), SERVICE, config);
    await query(EFFECTS_TABLE_SQL(SCHEMA));
    probe = app.get(Probe);
    client = app.get(NatsClient);
  });

  afterAll(async () => {
    // A test that failed while handlers were held would otherwise keep the app from closing.
    probe?.stopHolding();
    await app?.close();
    await nats?.destroy();
  });

  function lowStock(sku: string): EventEnvelope<InventoryLowStockV1Payload> {
    return createEvent(InventoryLowStockV1, { sku, available: 1, threshold: 5 });
  }

  async function publish(body: unknown, msgID: string = randomUUID()): Promise<number> {
    const ack = await client.js.publish(InventoryLowStockV1.subject, JSON.stringify(body), {
      msgID,
    });
    return ack.seq;
  }

  async function effects(sku: string): Promise<number> {
    const rows = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.effects WHERE sku = $1`,
      [sku],
    );
    return rows[0]?.n ?? 0;
  }

  async function deadLetterFor(sequence: number): Promise<DeadLetter> {
    return eventually(
      async () =>
        (await readStream<DeadLetter>(client.jsm, 'DLQ')).find((m) => m.body.sequence === sequence)
          ?.body,
      { what: `dead letter for stream sequence ${sequence}` },
    );
  }

  it('hands the handler the validated envelope with its delivery context, and acks', async () => {
    const event = lowStock('OK-1');
    const seq = await publish(event);
    await eventually(async () => (await effects('OK-1')) === 1, { what: 'the effect' });
    const [delivery] = probe.of('OK-1');
    expect(delivery).toMatchObject({
      eventId: event.eventId,
      deliveryCount: 1,
      streamSequence: seq,
    });
    const info = await client.jsm.consumers.info('INVENTORY', `${SERVICE}__inventory_low-stock_v1`);
    expect(info.config.filter_subject).toBe('inventory.low-stock.v1');
    await eventually(
      async () => (await client.jsm.consumers.info('INVENTORY', info.name)).num_ack_pending === 0,
      {
        what: 'the ack',
      },
    );
  });

  it('applies a redelivered event once when the effect committed but the ack was lost', async () => {
    await publish(lowStock('ACK-LOST-1'));
    await eventually(() => probe.of('ACK-LOST-1').length === 2, { what: 'the redelivery' });
    await eventually(
      async () =>
        (await client.jsm.consumers.info('INVENTORY', `${SERVICE}__inventory_low-stock_v1`))
          .num_ack_pending === 0,
    );
    expect(await effects('ACK-LOST-1')).toBe(1);
  });

  it('applies an event re-published under a new stream sequence once', async () => {
    const event = lowStock('REPUBLISHED-1');
    const first = await publish(event, randomUUID());
    const second = await publish(event, randomUUID());
    expect(second).toBeGreaterThan(first);
    await eventually(() => probe.of('REPUBLISHED-1').length === 2, { what: 'both copies' });
    await eventually(
      async () =>
        (await client.jsm.consumers.info('INVENTORY', `${SERVICE}__inventory_low-stock_v1`))
          .num_ack_pending === 0,
    );
    expect(await effects('REPUBLISHED-1')).toBe(1);
  });

  it('retries a transiently failing handler with growing delays until it succeeds', async () => {
    await publish(lowStock('FLAKY-1'));
    await eventually(async () => (await effects('FLAKY-1')) === 1, {
      what: 'the effect after retries',
    });
    const [first, second, third] = probe.of('FLAKY-1');
    expect([first, second, third].map((d) => d?.deliveryCount)).toEqual([1, 2, 3]);
    // Base 100 ms with equal jitter: at least 50 ms, then at least 100 ms.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(50);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(100);
  });

  it('dead-letters a handler that always fails after max_deliver, with its metadata', async () => {
    const seq = await publish(lowStock('BROKEN-1'));
    const letter = await deadLetterFor(seq);
    expect(letter).toMatchObject({
      stream: 'INVENTORY',
      subject: 'inventory.low-stock.v1',
      sequence: seq,
      consumer: `${SERVICE}__inventory_low-stock_v1`,
      deliveries: MAX_DELIVER,
      error: 'Error: always broken',
    });
    expect(probe.of('BROKEN-1')).toHaveLength(MAX_DELIVER);
    expect(JSON.parse(letter.body)).toMatchObject({ payload: { sku: 'BROKEN-1' } });
  });

  it('dead-letters a permanent failure at once', async () => {
    const seq = await publish(lowStock('PERMANENT-1'));
    const letter = await deadLetterFor(seq);
    expect(letter).toMatchObject({
      deliveries: 1,
      error: 'PermanentEventError: order does not exist',
    });
    expect(probe.of('PERMANENT-1')).toHaveLength(1);
  });

  it('terminates so that the server never delivers the message again, on this server version', async () => {
    const seq = await publish(lowStock('PERMANENT-2'));
    await deadLetterFor(seq);
    // Past two ack waits: a message the server did not take as terminated would be back by now.
    await new Promise((resolve) => setTimeout(resolve, ACK_WAIT_MS * 2 + 500));
    expect(probe.of('PERMANENT-2')).toHaveLength(1);
    const consumer = durableName(SERVICE, InventoryLowStockV1.subject);
    expect((await client.jsm.consumers.info('INVENTORY', consumer)).num_ack_pending).toBe(0);
  }, 30_000);

  it('dead-letters an invalid payload without calling the handler', async () => {
    const event = lowStock('INVALID-1');
    const seq = await publish({ ...event, payload: { sku: 'INVALID-1', available: -3 } });
    const letter = await deadLetterFor(seq);
    expect(letter.deliveries).toBe(1);
    expect(letter.error).toMatch(/^invalid event: payload invalid: .*available/);
    expect(letter.error).toMatch(/threshold/);
    expect(probe.of('INVALID-1')).toHaveLength(0);
  });

  it('dead-letters a body that is not JSON', async () => {
    const ack = await client.js.publish(InventoryLowStockV1.subject, 'not json{', {
      msgID: randomUUID(),
    });
    const letter = await deadLetterFor(ack.seq);
    expect(letter).toMatchObject({ error: 'invalid event: body is not JSON', body: 'not json{' });
  });

  it('dead-letters a message whose consumer never answered once the server gives up on it', async () => {
    // A consumer of this service whose process "dies" on every delivery: nobody acks or naks.
    const durable = `${SERVICE}__crashing`;
    await client.jsm.consumers.add('INVENTORY', {
      durable_name: durable,
      filter_subject: 'inventory.low-stock.v1',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: nanos(1000),
      max_deliver: 2,
    });
    const seq = await publish(lowStock('CRASHING-1'));
    const consumer = await client.js.consumers.get('INVENTORY', durable);
    for (let attempt = 0; attempt < 2; attempt++) {
      const batch = await consumer.fetch({ max_messages: 100, expires: 3000 });
      for await (const message of batch) void message;
    }
    const letter = await deadLetterFor(seq);
    expect(letter).toMatchObject({
      consumer: durable,
      deliveries: 2,
      subject: 'inventory.low-stock.v1',
    });
    expect(letter.error).toMatch(/max deliveries/);
  }, 30_000);

  it('handles at most NATS_CONCURRENCY messages at once, over all its consumers', async () => {
    const { concurrency } = app.get<MessagingOptions>(MESSAGING_OPTIONS);
    for (let i = 0; i < concurrency; i++) {
      await publish(lowStock(`HOLD-${i}`));
      const committed = createEvent(InventoryCommittedV1, {
        orderId: randomUUID(),
        reservationId: randomUUID(),
      });
      await client.js.publish(InventoryCommittedV1.subject, JSON.stringify(committed), {
        msgID: committed.eventId,
      });
    }
    await eventually(() => probe.heldNow === concurrency, { what: 'the limit to fill up' });
    // Room for a handler beyond the limit to start, were the limit per consumer.
    await sleep(500);
    expect(probe.maxHeld).toBe(concurrency);
    // Each release frees slots for the messages still waiting: all of them are handled in the end.
    await eventually(
      () => {
        probe.releaseHeld();
        return probe.released === 2 * concurrency;
      },
      { what: 'every held message to be handled' },
    );
    expect(probe.maxHeld).toBe(concurrency);
  });

  /** Releases held handlers until every `sku` has had its effect, once. */
  async function releaseUntilApplied(skus: string[]): Promise<void> {
    await eventually(
      async () => {
        probe.releaseHeld();
        // One query for all of them: a connection per SKU made a round of checks slower than the
        // handlers it waits for.
        const [applied] = await query<{ once: number }>(
          `SELECT count(*)::int AS once FROM (SELECT sku FROM ${SCHEMA}.effects
             WHERE sku = ANY($1::text[]) GROUP BY sku HAVING count(*) = 1) AS s`,
          [skus],
        );
        return applied!.once === skus.length;
      },
      { what: 'every held message to be handled' },
    );
  }

  it('keeps the messages waiting for a slot from redelivery, however long they wait', async () => {
    const { concurrency } = app.get<MessagingOptions>(MESSAGING_OPTIONS);
    // One message per slot, and as many waiting for one.
    const skus = Array.from({ length: 2 * concurrency }, (_, i) => `HOLD-QUEUED-${i}`);
    for (const sku of skus) await publish(lowStock(sku));
    await eventually(() => probe.heldNow === concurrency, { what: 'every slot to be taken' });
    // Past two ack waits: a waiting message the server was not told about would be redelivered.
    await sleep(ACK_WAIT_MS * 2 + 500);
    await releaseUntilApplied(skus);
    for (const sku of skus) expect(probe.of(sku).map((d) => d.deliveryCount)).toEqual([1]);
  }, 30_000);

  it('reads ahead no more than the slots, as many waiting, and one pull batch', async () => {
    const { concurrency } = app.get<MessagingOptions>(MESSAGING_OPTIONS);
    const bound = 2 * concurrency + pullBatch(concurrency);
    const skus = Array.from({ length: bound + 50 }, (_, i) => `HOLD-AHEAD-${i}`);
    for (const sku of skus) await publish(lowStock(sku));
    const consumer = durableName(SERVICE, InventoryLowStockV1.subject);
    const info = () => client.jsm.consumers.info('INVENTORY', consumer);
    await eventually(() => probe.heldNow === concurrency, { what: 'every slot to be taken' });
    await eventually(async () => (await info()).num_ack_pending >= 2 * concurrency, {
      what: 'the slots and the queue to fill up',
    });
    // Room for the server to deliver more, were reading unbounded.
    await sleep(500);
    const { num_ack_pending: delivered, num_pending: inStream } = await info();
    expect(delivered).toBeLessThanOrEqual(bound);
    expect(inStream).toBeGreaterThan(0);
    await releaseUntilApplied(skus);
  }, 60_000);

  it('times each handled event in event_handler_seconds and counts its outcome', async () => {
    const subject = InventoryLowStockV1.subject;
    const count = () =>
      metricValue(messagingMetrics.handlerSeconds, { subject }, 'event_handler_seconds_count');
    const sum = () =>
      metricValue(messagingMetrics.handlerSeconds, { subject }, 'event_handler_seconds_sum');
    const acked = () => metricValue(messagingMetrics.consumed, { subject, outcome: 'ack' });
    const before = { count: await count(), sum: await sum(), acked: await acked() };
    await publish(lowStock('HOLD-TIMED'));
    await eventually(() => probe.heldNow === 1, { what: 'the handler to start' });
    await sleep(300);
    probe.releaseHeld();
    await eventually(async () => (await effects('HOLD-TIMED')) === 1, { what: 'the effect' });
    await eventually(async () => (await acked()) === before.acked + 1, { what: 'the ack counted' });
    expect(await count()).toBe(before.count + 1);
    // Seconds, not milliseconds: the handler was held for 300 ms.
    expect((await sum()) - before.sum).toBeGreaterThanOrEqual(0.3);
    expect((await sum()) - before.sum).toBeLessThan(5);
  });
});
