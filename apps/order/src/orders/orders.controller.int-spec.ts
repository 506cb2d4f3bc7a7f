import { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createEvent, OrderCreatedV1 } from '@lib/contracts';
import { NatsClient } from '@lib/messaging';
import { isUniqueViolation } from '@lib/persistence';
import { freshSchema, query } from '../../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../../tests/harness/nats-server';
import { startPlatformApp, testConfig } from '../../../../tests/harness/platform-app';
import { readStream } from '../../../../tests/harness/streams';
import { eventually } from '../../../../tests/harness/wait';
import { OrderConfig } from '../config';
import { SagaRepository, SagaStart } from '../order-saga/saga.repository';
import { OrderModule } from '../order.module';
import { OrderStartBatcher } from './order-start.batcher';
import { OrdersService } from './orders.service';

const SCHEMA = 'order_http_test';

describe('orders HTTP API', () => {
  let nats: TestNatsServer;
  let app: NestExpressApplication;
  let http: ReturnType<NestExpressApplication['getHttpServer']>;

  beforeAll(async () => {
    nats = await startNatsServer();
    await freshSchema(SCHEMA);
    const config = testConfig(OrderConfig, nats.url);
    app = await startPlatformApp(OrderModule.forRoot(config, SCHEMA), 'order', config);
    http = app.getHttpServer();
  });

  afterAll(async () => {
    await app?.close();
    await nats?.destroy();
  });

  const valid = { customerId: 'c-1', items: [{ sku: 'SKU-1', quantity: 1 }] };
  const orders = async () =>
    (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.orders`))[0]!.n;

  it.each([
    ['an unknown field', { ...valid, price: 1 }, /property price should not exist/],
    [
      'an unknown line field',
      { ...valid, items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 5 }] },
      /unitPrice should not exist/,
    ],
    ['no lines', { ...valid, items: [] }, /items must contain at least 1 elements/],
    [
      '101 lines',
      { ...valid, items: Array.from({ length: 101 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })) },
      /items must contain no more than 100/,
    ],
    [
      'a quantity of 0',
      { ...valid, items: [{ sku: 'SKU-1', quantity: 0 }] },
      /items\.0\.quantity must not be less than 1/,
    ],
    [
      'a quantity of 1001',
      { ...valid, items: [{ sku: 'SKU-1', quantity: 1001 }] },
      /quantity must not be greater than 1000/,
    ],
    [
      'a fractional quantity',
      { ...valid, items: [{ sku: 'SKU-1', quantity: 1.5 }] },
      /quantity must be an integer/,
    ],
    [
      'a malformed SKU',
      { ...valid, items: [{ sku: 'sku one', quantity: 1 }] },
      /sku must be 1-64 characters/,
    ],
    ['a lower-case currency', { ...valid, currency: 'eur' }, /currency must be an ISO 4217 code/],
    ['no customer', { items: valid.items }, /customerId/],
    [
      'repeated SKUs adding up to more than 1000',
      {
        ...valid,
        items: [
          { sku: 'A', quantity: 600 },
          { sku: 'A', quantity: 600 },
        ],
      },
      /add up to 1200/,
    ],
  ])('answers 400 naming the problem for %s, and creates nothing', async (_what, body, message) => {
    const before = await orders();
    const res = await request(http).post('/orders').send(body).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
    expect(res.body.message).toMatch(message);
    expect(await orders()).toBe(before);
  });

  it('answers 400 JSON to a body that is not JSON', async () => {
    const res = await request(http)
      .post('/orders')
      .set('Content-Type', 'application/json')
      .send('{"customerId":')
      .expect(400);
    expect(res.body).toMatchObject({ statusCode: 400 });
  });

  it('answers 413 JSON to a body over 64 KB', async () => {
    const res = await request(http)
      .post('/orders')
      .send({ ...valid, customerId: 'x'.repeat(70_000) })
      .expect(413);
    expect(res.body).toMatchObject({ statusCode: 413 });
  });

  it('merges repeated SKUs into one line', async () => {
    const res = await request(http)
      .post('/orders')
      .send({
        customerId: 'c-1',
        items: [
          { sku: 'B', quantity: 2 },
          { sku: 'A', quantity: 1 },
          { sku: 'B', quantity: 3 },
        ],
      })
      .expect(202);
    const order = await request(http).get(`/orders/${res.body.orderId}`).expect(200);
    expect(order.body.lines).toEqual([
      { sku: 'A', quantity: 1, unitPriceMinor: null },
      { sku: 'B', quantity: 5, unitPriceMinor: null },
    ]);
  });

  it('answers the same order for the same Idempotency-Key and body, and starts one saga', async () => {
    const key = randomUUID();
    const first = await request(http)
      .post('/orders')
      .set('Idempotency-Key', key)
      .send(valid)
      .expect(202);
    const racing = await Promise.all(
      Array.from({ length: 5 }, () =>
        request(http).post('/orders').set('Idempotency-Key', key).send(valid),
      ),
    );
    for (const res of racing) expect(res.body).toEqual(first.body);
    expect(first.body).toMatchObject({
      orderId: expect.any(String),
      sagaId: expect.any(String),
      status: 'PENDING',
    });
    const jsm = app.get(NatsClient).jsm;
    await eventually(async () => {
      const created = await readStream<{ payload: { orderId: string } }>(
        jsm,
        'ORDERS',
        'order.created.v1',
      );
      return created.some((m) => m.body.payload.orderId === first.body.orderId);
    });
    const sagas = await query(`SELECT id FROM ${SCHEMA}.sagas WHERE order_id = $1`, [
      first.body.orderId,
    ]);
    expect(sagas).toHaveLength(1);
    const orderId = (first.body as { orderId: string }).orderId;
    const created = await readStream<{ payload: { orderId: string } }>(
      jsm,
      'ORDERS',
      'order.created.v1',
    );
    expect(created.filter((m) => m.body.payload.orderId === orderId)).toHaveLength(1);
  });

  it('answers 422 when an Idempotency-Key comes back with another body', async () => {
    const key = randomUUID();
    await request(http).post('/orders').set('Idempotency-Key', key).send(valid).expect(202);
    const before = await orders();
    const res = await request(http)
      .post('/orders')
      .set('Idempotency-Key', key)
      .send({ ...valid, customerId: 'someone-else' })
      .expect(422);
    expect(res.body).toMatchObject({ code: 'ORDER.IDEMPOTENCY_KEY_REUSED' });
    expect(await orders()).toBe(before);
  });

  it('answers 400 to an Idempotency-Key over 255 characters', async () => {
    await request(http)
      .post('/orders')
      .set('Idempotency-Key', 'k'.repeat(256))
      .send(valid)
      .expect(400);
  });

  it('answers 404 JSON for an unknown order and 400 for a malformed id', async () => {
    const missing = await request(http).get(`/orders/${randomUUID()}`).expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, code: 'ORDER.NOT_FOUND' });
    const malformed = await request(http).get('/orders/not-a-uuid').expect(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
    await request(http).post(`/orders/${randomUUID()}/cancel`).expect(404);
    await request(http).post('/orders/42/cancel').expect(400);
  });
  describe('orders placed together', () => {
    afterEach(() => jest.restoreAllMocks());

    /** What `OrdersService.place` hands the batcher, for an order of one SKU-1. */
    function newStart(idempotencyKey: string | null = null): SagaStart {
      const orderId = randomUUID();
      const items = [{ sku: 'SKU-1', quantity: 1 }];
      const createdAt = new Date();
      return {
        order: {
          id: orderId,
          customerId: 'c-1',
          currency: 'EUR',
          tenantId: null,
          idempotencyKey,
          requestHash: 'request-hash',
          createdAt,
        },
        lines: items,
        saga: { id: randomUUID(), deadlineAt: new Date(createdAt.getTime() + 3_600_000) },
        created: createEvent(
          OrderCreatedV1,
          { orderId, customerId: 'c-1', currency: 'EUR', items },
          { correlationId: orderId },
        ),
      };
    }

    it('writes them with one statement, each with its lines, saga, first step and order.created', async () => {
      const start = jest.spyOn(app.get(SagaRepository), 'start');
      const service = app.get(OrdersService);
      const requests = [
        { customerId: 'c-together-1', items: [{ sku: 'A', quantity: 1 }] },
        {
          customerId: 'c-together-2',
          items: [
            { sku: 'B', quantity: 3 },
            { sku: 'A', quantity: 2 },
          ],
        },
        { customerId: 'c-together-3', items: [{ sku: 'C', quantity: 4 }], tenantId: 'tenant-3' },
      ];
      const placed = await Promise.all(requests.map((body) => service.place(body)));
      expect(start).toHaveBeenCalledTimes(1);

      const jsm = app.get(NatsClient).jsm;
      const created = await eventually(async () => {
        const messages = await readStream<{ eventId: string; payload: { orderId: string } }>(
          jsm,
          'ORDERS',
          'order.created.v1',
        );
        const mine = placed.map(({ orderId }) =>
          messages.filter((m) => m.body.payload.orderId === orderId),
        );
        return mine.every((copies) => copies.length === 1) ? mine.map(([m]) => m!) : undefined;
      });
      for (const [i, { orderId, sagaId }] of placed.entries()) {
        const order = (await request(http).get(`/orders/${orderId}`).expect(200)).body;
        expect(order).toMatchObject({
          customerId: requests[i]!.customerId,
          tenantId: requests[i]!.tenantId ?? null,
          status: 'PENDING',
          lines: [...requests[i]!.items]
            .sort((a, b) => a.sku.localeCompare(b.sku))
            .map((line) => ({ ...line, unitPriceMinor: null })),
          saga: { sagaId, state: 'STARTED', version: 1 },
        });
        expect(order.saga.steps).toEqual([
          expect.objectContaining({
            from: null,
            to: 'STARTED',
            trigger: 'order.created.v1',
            eventId: created[i]!.body.eventId,
          }),
        ]);
      }
    });

    it('writes the others when one order of the batch reuses an Idempotency-Key', async () => {
      const key = randomUUID();
      await request(http).post('/orders').set('Idempotency-Key', key).send(valid).expect(202);
      const starts = [newStart(), newStart(key), newStart()];
      const batcher = app.get(OrderStartBatcher);
      const outcomes = await Promise.allSettled(starts.map((start) => batcher.apply(start)));
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      const reused = outcomes[1] as PromiseRejectedResult;
      expect(isUniqueViolation(reused.reason, 'orders_idempotency_key_key')).toBe(true);
      const sagas = await query<{ order_id: string }>(
        `SELECT order_id FROM ${SCHEMA}.sagas WHERE order_id = ANY($1::uuid[])`,
        [starts.map((start) => start.order.id)],
      );
      expect(sagas.map((saga) => saga.order_id).sort()).toEqual(
        [starts[0]!.order.id, starts[2]!.order.id].sort(),
      );
    });
  });
});
