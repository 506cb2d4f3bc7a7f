import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import {
  createEvent,
  EventEnvelope,
  InventoryProductPricedV1,
  OrderCreatedV1,
} from '@lib/contracts';
import { auditEntry, IdempotencyKeyReusedError, Principal } from '@lib/platform';
import { freshSchema, query, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../../tests/harness/nats-server';
import { startPlatformApp, testConfig } from '../../../../tests/harness/platform-app';
import { untilHandled } from '../../../../tests/harness/app-probes';
import { publishEvent } from '../../../../tests/harness/events';
import { readStream } from '../../../../tests/harness/streams';
import { bearer } from '../../../../tests/harness/tokens';
import { eventually } from '../../../../tests/harness/wait';
import { OrderConfig } from '../config';
import { SagaRepository, SagaStart } from '../order-saga/saga.repository';
import { OrderModule } from '../order.module';
import { OrderStartBatcher } from './order-start.batcher';
import { OrderRepository } from './order.repository';
import { OrdersService } from './orders.service';

const SCHEMA = 'order_http_test';

type Headers = Record<string, string>;

/** A customer of a tenant ('default' when none is given), as its bearer token. */
const customer = (sub: string, tenantId?: string) => bearer(sub, ['customer'], tenantId);
const operator = (tenantId?: string) => bearer('op-1', ['operator'], tenantId);

describe('orders HTTP API', () => {
  let nats: TestNatsServer;
  let app: NestFastifyApplication;
  let http: ReturnType<NestFastifyApplication['getHttpServer']>;

  beforeAll(async () => {
    nats = await startNatsServer();
    await freshSchema(SCHEMA);
    const config = testConfig(OrderConfig, nats.env('order'));
    app = await startPlatformApp(OrderModule.forRoot(config, SCHEMA), 'order', config);
    http = app.getHttpServer();
  });

  afterAll(async () => {
    await app?.close();
    await nats?.destroy();
  });

  const valid = { items: [{ sku: 'SKU-1', quantity: 1 }] };
  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    (
      await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${SCHEMA}.${table} WHERE ${where}`,
        params,
      )
    )[0]!.n;
  const orders = () => count('orders');
  const audit = (where: string, params: unknown[] = []) =>
    query<Record<string, unknown>>(
      `SELECT actor, tenant_id, action, entity_type, entity_id, result, reason, details
         FROM ${SCHEMA}.audit_log WHERE ${where} ORDER BY id`,
      params,
    );

  async function place(
    headers: Headers,
    body: object = valid,
    key?: string,
  ): Promise<request.Response> {
    const req = request(http).post('/orders').set(headers);
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
  }

  async function placed(headers: Headers, body: object = valid): Promise<string> {
    const res = await place(headers, body);
    expect(res.status).toBe(202);
    return (res.body as { orderId: string }).orderId;
  }

  const getOrder = (orderId: string, headers: Headers) =>
    request(http).get(`/orders/${orderId}`).set(headers);

  async function cancel(orderId: string, headers: Headers, key?: string) {
    const req = request(http).post(`/orders/${orderId}/cancel`).set(headers);
    return key === undefined ? req : req.set('Idempotency-Key', key);
  }

  async function createdEvents(orderId: string): Promise<EventEnvelope[]> {
    const { jsm } = await nats.operator();
    return (await readStream<EventEnvelope<{ orderId: string }>>(jsm, 'ORDERS', 'order.created.v1'))
      .filter((m) => m.body.payload.orderId === orderId)
      .map((m) => m.body);
  }

  it.each([
    ['an unknown field', { ...valid, price: 1 }, /property price should not exist/],
    ['a tenantId field', { ...valid, tenantId: 't-other' }, /property tenantId should not exist/],
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
    [
      'a currency ISO 4217 does not have',
      { ...valid, currency: 'XYZ' },
      /currency must be an ISO 4217 currency code like EUR/,
    ],
    ['a currency of two letters', { ...valid, currency: 'eu' }, /currency must be an ISO 4217/],
    ['an empty customerId', { ...valid, customerId: '' }, /customerId/],
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
    const res = await place(await customer('c-1'), body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
    expect(res.body.message).toMatch(message);
    expect(await orders()).toBe(before);
  });

  describe('currencies', () => {
    /** Inventory's announcement of a product's price, as the order app consumes it. */
    async function priced(
      sku: string,
      currency: string,
      { tenantId = 'default', occurredAt = new Date().toISOString() } = {},
    ): Promise<void> {
      const event = {
        ...createEvent(InventoryProductPricedV1, { sku, priceMinor: 900, currency }, { tenantId }),
        occurredAt,
      };
      const { js, jsm } = await nats.operator();
      const seq = await publishEvent(js, event);
      await untilHandled(jsm, 'order', InventoryProductPricedV1.subject, seq);
    }

    const outbox = () => count('outbox');

    it('takes an ISO 4217 code in any case and keeps it upper case', async () => {
      const headers = await customer('c-case');
      const orderId = await placed(headers, { ...valid, currency: 'usd' });
      expect((await getOrder(orderId, headers)).body).toMatchObject({ currency: 'USD' });
      const [created] = await createdEvents(orderId);
      expect(created?.payload).toMatchObject({ currency: 'USD' });
    });

    it('refuses an order in a currency its products are priced otherwise in, naming them, and writes nothing', async () => {
      await priced('CUR-A', 'EUR');
      await priced('CUR-B', 'EUR');
      await priced('CUR-C', 'USD');
      const before = { orders: await orders(), outbox: await outbox() };
      const body = {
        items: [
          { sku: 'CUR-B', quantity: 1 },
          { sku: 'CUR-C', quantity: 1 },
          { sku: 'CUR-A', quantity: 2 },
          { sku: 'CUR-UNKNOWN', quantity: 1 },
        ],
        currency: 'usd',
      };
      const res = await place(await customer('c-cur'), body, 'key-cur-1');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        code: 'ORDER.CURRENCY_NOT_SUPPORTED',
        message: 'not priced in USD: CUR-A (EUR), CUR-B (EUR)',
      });
      expect({ orders: await orders(), outbox: await outbox() }).toEqual(before);
      // In the currency they are priced in, the same lines are an order (CUR-UNKNOWN: inventory decides).
      await placed(await customer('c-cur'), {
        items: body.items.filter((line) => line.sku !== 'CUR-C'),
        currency: 'EUR',
      });
    });

    it('defaults to DEFAULT_CURRENCY, which the check applies to as well', async () => {
      await priced('CUR-CHF', 'CHF');
      const res = await place(await customer('c-cur'), {
        items: [{ sku: 'CUR-CHF', quantity: 1 }],
      });
      expect(res.body).toMatchObject({
        code: 'ORDER.CURRENCY_NOT_SUPPORTED',
        message: 'not priced in EUR: CUR-CHF (CHF)',
      });
    });

    it('follows the latest price announcement of each product, whatever order they arrive in', async () => {
      const now = Date.now();
      await priced('CUR-MOVED', 'EUR', { occurredAt: new Date(now - 1000).toISOString() });
      await priced('CUR-MOVED', 'GBP', { occurredAt: new Date(now).toISOString() });
      // An older announcement delivered late (a redelivery, a replay) changes nothing.
      await priced('CUR-MOVED', 'EUR', { occurredAt: new Date(now - 500).toISOString() });
      const line = { items: [{ sku: 'CUR-MOVED', quantity: 1 }] };
      expect(
        (await place(await customer('c-cur'), { ...line, currency: 'EUR' })).body,
      ).toMatchObject({ code: 'ORDER.CURRENCY_NOT_SUPPORTED' });
      await placed(await customer('c-cur'), { ...line, currency: 'GBP' });
    });

    it('refuses an order placed together with others alone, and starts the others in the same statement', async () => {
      await priced('CUR-BATCH', 'EUR');
      const start = jest.spyOn(app.get(SagaRepository), 'start');
      const service = app.get(OrdersService);
      const line = [{ sku: 'CUR-BATCH', quantity: 1 }];
      const outcomes = await Promise.allSettled([
        service.place(new Principal('c-batch-1', ['customer']), { items: line, currency: 'EUR' }),
        service.place(new Principal('c-batch-2', ['customer']), { items: line, currency: 'JPY' }),
        service.place(new Principal('c-batch-3', ['customer']), { items: line }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
        code: 'ORDER.CURRENCY_NOT_SUPPORTED',
        message: 'not priced in JPY: CUR-BATCH (EUR)',
      });
      // One statement for the three, which skipped the one priced otherwise.
      expect(start).toHaveBeenCalledTimes(1);
      const [placedTogether] = start.mock.calls[0]!;
      const started = await (start.mock.results[0]!.value as Promise<Set<string>>);
      expect(
        placedTogether
          .filter(({ order }) => started.has(order.id))
          .map(({ order }) => order.customerId),
      ).toEqual(['c-batch-1', 'c-batch-3']);
      expect(await count('orders', `customer_id = 'c-batch-2'`)).toBe(0);
      expect(await count('audit_log', `actor = 'c-batch-2'`)).toBe(0);
      start.mockRestore();
    });

    it("checks against the prices of the order's tenant only", async () => {
      await priced('CUR-TENANT', 'EUR', { tenantId: 't-cur-1' });
      const line = { items: [{ sku: 'CUR-TENANT', quantity: 1 }], currency: 'USD' };
      expect((await place(await customer('c-cur', 't-cur-1'), line)).status).toBe(400);
      await placed(await customer('c-cur', 't-cur-2'), line);
    });
  });

  it('answers 400 JSON to a body that is not JSON', async () => {
    const res = await request(http)
      .post('/orders')
      .set(await customer('c-1'))
      .set('Content-Type', 'application/json')
      .send('{"items":')
      .expect(400);
    expect(res.body).toMatchObject({ statusCode: 400 });
  });

  it('answers 413 JSON to a body over 64 KB', async () => {
    const res = await place(await customer('c-1'), { ...valid, customerId: 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413 });
  });

  it('answers 401 without a token and 403 without the permission, writing only the denial', async () => {
    const before = await orders();
    const anonymous = await request(http).post('/orders').send(valid).expect(401);
    expect(anonymous.body).toMatchObject({ code: 'AUTH.UNAUTHENTICATED' });
    const merchant = await place(await bearer('m-403', ['merchant']));
    expect(merchant.status).toBe(403);
    expect(merchant.body).toMatchObject({ code: 'AUTH.FORBIDDEN' });
    expect(await orders()).toBe(before);
    expect(await audit(`actor = 'm-403'`)).toEqual([
      expect.objectContaining({ action: 'http.request', result: 'denied' }),
    ]);
    // An operator reads orders but places and cancels none.
    expect((await place(await operator())).status).toBe(403);
    expect((await cancel(randomUUID(), await operator())).status).toBe(403);
  });

  it("places the order for the token's subject in the token's tenant, audited once", async () => {
    const orderId = await placed(await customer('c-place', 't-place'), {
      items: [{ sku: 'SKU-1', quantity: 2 }],
      currency: 'USD',
    });
    const order = await getOrder(orderId, await customer('c-place', 't-place'));
    expect(order.body).toMatchObject({
      customerId: 'c-place',
      tenantId: 't-place',
      currency: 'USD',
    });
    const [saga] = await query(
      `SELECT tenant_id, customer_id FROM ${SCHEMA}.sagas WHERE order_id = $1`,
      [orderId],
    );
    expect(saga).toEqual({ tenant_id: 't-place', customer_id: 'c-place' });
    const [created] = await eventually(async () => {
      const events = await createdEvents(orderId);
      return events.length > 0 ? events : undefined;
    });
    expect(created).toMatchObject({ tenantId: 't-place', payload: { customerId: 'c-place' } });
    expect(await audit(`entity_id = $1`, [orderId])).toEqual([
      {
        actor: 'c-place',
        tenant_id: 't-place',
        action: 'order.place',
        entity_type: 'order',
        entity_id: orderId,
        result: 'success',
        reason: null,
        details: { currency: 'USD', lines: [{ sku: 'SKU-1', quantity: 2 }] },
      },
    ]);
  });

  it("takes a body's customerId that is the token's subject, and a token without tenant as 'default'", async () => {
    const orderId = await placed(await customer('c-self'), { ...valid, customerId: 'c-self' });
    const order = await getOrder(orderId, await customer('c-self'));
    expect(order.body).toMatchObject({ customerId: 'c-self', tenantId: 'default' });
    const [created] = await eventually(async () => {
      const events = await createdEvents(orderId);
      return events.length > 0 ? events : undefined;
    });
    expect(created!.tenantId).toBe('default');
  });

  it("refuses with 403 an order for another customer than the token's, and writes no order", async () => {
    const before = await orders();
    const res = await place(await customer('c-mallory', 't1'), {
      ...valid,
      customerId: 'c-victim',
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'AUTH.FORBIDDEN' });
    expect(await orders()).toBe(before);
    expect(await count('sagas', `customer_id IN ('c-victim', 'c-mallory')`)).toBe(0);
    expect(await audit(`actor = 'c-mallory'`)).toEqual([
      expect.objectContaining({
        tenant_id: 't1',
        action: 'order.place',
        entity_type: 'customer',
        entity_id: 'c-victim',
        result: 'denied',
      }),
    ]);
  });

  it('merges repeated SKUs into one line', async () => {
    const orderId = await placed(await customer('c-1'), {
      items: [
        { sku: 'B', quantity: 2 },
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: 3 },
      ],
    });
    const order = await getOrder(orderId, await customer('c-1'));
    expect(order.body.lines).toEqual([
      { sku: 'A', quantity: 1, unitPriceMinor: null },
      { sku: 'B', quantity: 5, unitPriceMinor: null },
    ]);
  });

  describe('Idempotency-Key on POST /orders', () => {
    it('answers the same order for the same key and body of one customer, and starts one saga', async () => {
      const key = randomUUID();
      const headers = await customer('c-idem');
      const first = await place(headers, valid, key);
      expect(first.status).toBe(202);
      const racing = await Promise.all(Array.from({ length: 5 }, () => place(headers, valid, key)));
      for (const res of racing) expect(res.body).toEqual(first.body);
      expect(first.body).toMatchObject({
        orderId: expect.any(String),
        sagaId: expect.any(String),
        status: 'PENDING',
      });
      const orderId = (first.body as { orderId: string }).orderId;
      await eventually(async () => (await createdEvents(orderId)).length > 0);
      expect(await count('sagas', 'order_id = $1', [orderId])).toBe(1);
      expect(await createdEvents(orderId)).toHaveLength(1);
      expect(await count('audit_log', `action = 'order.place' AND entity_id = $1`, [orderId])).toBe(
        1,
      );
      expect(await count('orders', `customer_id = 'c-idem'`)).toBe(1);
    });

    it('answers 422 when the customer reuses a key with another body, and writes nothing', async () => {
      const key = randomUUID();
      const headers = await customer('c-reuse');
      expect((await place(headers, valid, key)).status).toBe(202);
      const before = await orders();
      const res = await place(headers, { ...valid, currency: 'USD' }, key);
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'REQUEST.IDEMPOTENCY_KEY_REUSED' });
      expect(await orders()).toBe(before);
    });

    it("places an independent order for another principal's key of the same name", async () => {
      const key = randomUUID();
      const mine = await place(await customer('c-key-a', 't1'), valid, key);
      // Another customer of the tenant, with another body; the same subject in another tenant.
      const other = await place(
        await customer('c-key-b', 't1'),
        { ...valid, currency: 'USD' },
        key,
      );
      const elsewhere = await place(await customer('c-key-a', 't2'), valid, key);
      expect([mine.status, other.status, elsewhere.status]).toEqual([202, 202, 202]);
      const ids = [mine, other, elsewhere].map((res) => (res.body as { orderId: string }).orderId);
      expect(new Set(ids).size).toBe(3);
      const rows = await query<{ customer_id: string; tenant_id: string }>(
        `SELECT customer_id, tenant_id FROM ${SCHEMA}.orders WHERE id = ANY($1::uuid[]) ORDER BY customer_id, tenant_id`,
        [ids],
      );
      expect(rows).toEqual([
        { customer_id: 'c-key-a', tenant_id: 't1' },
        { customer_id: 'c-key-a', tenant_id: 't2' },
        { customer_id: 'c-key-b', tenant_id: 't1' },
      ]);
    });

    it('places a new order once the key has expired, and answers that one from then on', async () => {
      const key = randomUUID();
      const headers = await customer('c-expiry');
      const first = await place(headers, valid, key);
      const firstId = (first.body as { orderId: string }).orderId;
      // 24 h and a minute later, as far as this order's key is concerned.
      await query(
        `UPDATE ${SCHEMA}.orders SET created_at = created_at - interval '1441 minutes' WHERE id = $1`,
        [firstId],
      );
      const second = await place(headers, { ...valid, currency: 'USD' }, key);
      expect(second.status).toBe(202);
      const secondId = (second.body as { orderId: string }).orderId;
      expect(secondId).not.toBe(firstId);
      expect((await place(headers, { ...valid, currency: 'USD' }, key)).body).toEqual(second.body);
      // The expired order stays as it was, only without its key.
      expect((await getOrder(firstId, headers)).body).toMatchObject({ currency: 'EUR' });
      expect(await count('orders', `customer_id = 'c-expiry'`)).toBe(2);
    });

    it('answers 400 to a key over 255 characters, and writes nothing', async () => {
      const before = await orders();
      expect((await place(await customer('c-1'), valid, 'k'.repeat(256))).status).toBe(400);
      expect(await orders()).toBe(before);
    });
  });

  it('answers 404 JSON for an unknown order and 400 for a malformed id', async () => {
    const headers = await customer('c-1');
    const missing = await getOrder(randomUUID(), headers);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, code: 'ORDER.NOT_FOUND' });
    const malformed = await getOrder('not-a-uuid', headers);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
    expect((await cancel(randomUUID(), headers)).status).toBe(404);
    expect((await cancel('42', headers)).status).toBe(400);
  });

  describe('whose orders a principal sees', () => {
    /** The order as its owner sees it: unchanged is the same saga version and step log. */
    const snapshot = async (orderId: string, owner: Headers) =>
      (await getOrder(orderId, owner)).body as {
        saga: { state: string; version: number; steps: unknown[] };
      };

    it("answers 404 to a customer reading or cancelling another customer's order, which stays as it was", async () => {
      const owner = await customer('c-owner', 't1');
      const orderId = await placed(owner);
      const before = await snapshot(orderId, owner);
      const intruder = await customer('c-intruder', 't1');
      const read = await getOrder(orderId, intruder);
      expect(read.status).toBe(404);
      expect(read.body).toMatchObject({ code: 'ORDER.NOT_FOUND' });
      const cancelled = await cancel(orderId, intruder);
      expect(cancelled.status).toBe(404);
      expect(cancelled.body).toMatchObject({ code: 'ORDER.NOT_FOUND' });
      expect(await snapshot(orderId, owner)).toEqual(before);
      expect(before.saga.state).toBe('STARTED');
      expect(await audit(`action = 'order.cancel' AND entity_id = $1`, [orderId])).toEqual([]);
    });

    it("hides another tenant's order from its customers and operators, even under the same subject", async () => {
      const owner = await customer('c-tenant', 't-a');
      const orderId = await placed(owner);
      const before = await snapshot(orderId, owner);
      for (const outsider of [await customer('c-tenant', 't-b'), await operator('t-b')]) {
        const res = await getOrder(orderId, outsider);
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ code: 'ORDER.NOT_FOUND' });
      }
      expect((await cancel(orderId, await customer('c-tenant', 't-b'))).status).toBe(404);
      expect(await snapshot(orderId, owner)).toEqual(before);
    });

    it("lets an operator read every customer's orders of its tenant", async () => {
      const first = await placed(await customer('c-op-1', 't-op'));
      const second = await placed(await customer('c-op-2', 't-op'));
      for (const [orderId, customerId] of [
        [first, 'c-op-1'],
        [second, 'c-op-2'],
      ] as const) {
        const res = await getOrder(orderId, await operator('t-op'));
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ orderId, customerId, tenantId: 't-op' });
      }
    });
  });

  describe('POST /orders/:id/cancel', () => {
    it('cancels the customer’s order with one audit record; a repeated cancel changes and records nothing', async () => {
      const owner = await customer('c-cancel', 't1');
      const orderId = await placed(owner);
      const res = await cancel(orderId, owner);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ orderId, status: 'CANCELLED', sagaState: 'CANCELLED' });
      expect((await cancel(orderId, owner)).status).toBe(202);
      expect(await audit(`action = 'order.cancel' AND entity_id = $1`, [orderId])).toEqual([
        {
          actor: 'c-cancel',
          tenant_id: 't1',
          action: 'order.cancel',
          entity_type: 'order',
          entity_id: orderId,
          result: 'success',
          reason: null,
          details: { from: 'STARTED', to: 'CANCELLED' },
        },
      ]);
    });

    it('answers a retry under the same Idempotency-Key with the first answer; the key on another order is 422', async () => {
      const owner = await customer('c-cancel-key');
      const [orderId, otherId] = [await placed(owner), await placed(owner)];
      const key = randomUUID();
      const first = await cancel(orderId, owner, key);
      expect(first.status).toBe(202);
      const again = await cancel(orderId, owner, key);
      expect([again.status, again.body]).toEqual([202, first.body]);
      const reused = await cancel(otherId, owner, key);
      expect(reused.status).toBe(422);
      expect(reused.body).toMatchObject({ code: 'REQUEST.IDEMPOTENCY_KEY_REUSED' });
      expect((await getOrder(otherId, owner)).body).toMatchObject({ status: 'PENDING' });
      // Another customer's key of the same name is its own: its cancel of its order goes through.
      const neighbour = await customer('c-cancel-key-2');
      const theirs = await placed(neighbour);
      expect((await cancel(theirs, neighbour, key)).body).toMatchObject({ status: 'CANCELLED' });
      expect(
        await count('audit_log', `action = 'order.cancel' AND entity_id = ANY($1::text[])`, [
          [orderId, otherId, theirs],
        ]),
      ).toBe(2);
    });
  });

  describe('orders placed together', () => {
    afterEach(() => jest.restoreAllMocks());

    /** What `OrdersService.place` hands the batcher, for an order of one SKU-1 of c-1. */
    function newStart(idempotencyKey: string | null = null): SagaStart {
      const orderId = randomUUID();
      const items = [{ sku: 'SKU-1', quantity: 1 }];
      const createdAt = new Date();
      const principal = new Principal('c-1', ['customer']);
      return {
        order: {
          id: orderId,
          customerId: principal.sub,
          currency: 'EUR',
          tenantId: principal.tenantId,
          idempotencyKey,
          requestHash: 'request-hash',
          createdAt,
        },
        lines: items,
        saga: { id: randomUUID(), deadlineAt: new Date(createdAt.getTime() + 3_600_000) },
        created: createEvent(
          OrderCreatedV1,
          { orderId, customerId: principal.sub, currency: 'EUR', items },
          { correlationId: orderId, tenantId: principal.tenantId },
        ),
        audit: auditEntry(principal, 'order.place', { type: 'order', id: orderId }),
      };
    }

    it('writes them with one statement, each with its lines, saga, first step, order.created and audit record', async () => {
      const start = jest.spyOn(app.get(SagaRepository), 'start');
      const service = app.get(OrdersService);
      const requests = [
        {
          principal: new Principal('c-together-1', ['customer']),
          items: [{ sku: 'A', quantity: 1 }],
        },
        {
          principal: new Principal('c-together-2', ['customer'], 'tenant-2'),
          items: [
            { sku: 'B', quantity: 3 },
            { sku: 'A', quantity: 2 },
          ],
        },
        {
          principal: new Principal('c-together-3', ['customer'], 'tenant-3'),
          items: [{ sku: 'C', quantity: 4 }],
        },
      ];
      const placedTogether = await Promise.all(
        requests.map(({ principal, items }) => service.place(principal, { items })),
      );
      expect(start).toHaveBeenCalledTimes(1);

      const created = await eventually(async () => {
        const mine = await Promise.all(placedTogether.map(({ orderId }) => createdEvents(orderId)));
        return mine.every((copies) => copies.length === 1) ? mine.map(([m]) => m!) : undefined;
      });
      for (const [i, { orderId, sagaId }] of placedTogether.entries()) {
        const { principal, items } = requests[i]!;
        const owner = await customer(principal.sub, principal.tenantId);
        const order = (await getOrder(orderId, owner).expect(200)).body;
        expect(order).toMatchObject({
          customerId: principal.sub,
          tenantId: principal.tenantId,
          status: 'PENDING',
          lines: [...items]
            .sort((a, b) => a.sku.localeCompare(b.sku))
            .map((line) => ({ ...line, unitPriceMinor: null })),
          saga: { sagaId, state: 'STARTED', version: 1 },
        });
        expect(order.saga.steps).toEqual([
          expect.objectContaining({
            from: null,
            to: 'STARTED',
            trigger: 'order.created.v1',
            eventId: created[i]!.eventId,
          }),
        ]);
        expect(created[i]!.tenantId).toBe(principal.tenantId);
        expect(await audit(`entity_id = $1`, [orderId])).toEqual([
          expect.objectContaining({
            actor: principal.sub,
            tenant_id: principal.tenantId,
            action: 'order.place',
          }),
        ]);
      }
    });

    it('answers, within a batch, the order placed earlier under a key, refuses another request under it, and writes the others', async () => {
      const key = randomUUID();
      const first = await place(await customer('c-1'), valid, key);
      expect(first.status).toBe(202);
      const [earlier] = await query<{ request_hash: string }>(
        `SELECT request_hash FROM ${SCHEMA}.orders WHERE id = $1`,
        [(first.body as { orderId: string }).orderId],
      );
      const retry = newStart(key);
      retry.order.requestHash = earlier!.request_hash;
      const starts = [newStart(), newStart(key), newStart()];
      const batcher = app.get(OrderStartBatcher);
      const outcomes = await Promise.allSettled(starts.map((start) => batcher.apply(start)));
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(
        IdempotencyKeyReusedError,
      );
      expect(await batcher.apply(retry)).toMatchObject({
        orderId: (first.body as { orderId: string }).orderId,
        sagaId: (first.body as { sagaId: string }).sagaId,
      });
      const ids = [...starts, retry].map((start) => start.order.id);
      const sagas = await query<{ order_id: string }>(
        `SELECT order_id FROM ${SCHEMA}.sagas WHERE order_id = ANY($1::uuid[])`,
        [ids],
      );
      expect(sagas.map((saga) => saga.order_id).sort()).toEqual([ids[0], ids[2]].sort());
      // Nor were the audit records of the orders that were not placed.
      expect(await count('audit_log', 'entity_id = ANY($1::text[])', [ids])).toBe(2);
    });

    it('answers the order of a key that another instance takes while its statement runs', async () => {
      const headers = await customer('c-race');
      const first = (await place(headers, valid, randomUUID())).body as { orderId: string };
      /**
       * Places an order under `key` while another instance's transaction holds `key` for the first
       * order: this instance's statement finds the key free, waits on it, and loses the race when
       * the other commits.
       */
      const placeWhileTaken = async (key: string, body: object) => {
        const other = new Client({ connectionString: TEST_DATABASE_URL });
        await other.connect();
        try {
          await other.query('BEGIN');
          await other.query(`UPDATE ${SCHEMA}.orders SET idempotency_key = $1 WHERE id = $2`, [
            key,
            first.orderId,
          ]);
          const placing = place(headers, body, key);
          await eventually(async () => {
            const [waiting] = await query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND datname = current_database()
                  AND query LIKE 'WITH placed AS%'`,
            );
            return waiting!.n === 1;
          });
          await other.query('COMMIT');
          return await placing;
        } finally {
          await other.end();
        }
      };
      const raced = await placeWhileTaken(randomUUID(), valid);
      expect([raced.status, raced.body]).toMatchObject([202, { orderId: first.orderId }]);
      const reused = await placeWhileTaken(randomUUID(), { ...valid, currency: 'USD' });
      expect(reused.status).toBe(422);
      expect(await count('orders', `customer_id = 'c-race'`)).toBe(1);
    });

    it('fails only the orders still undecided when a look-up fails after others were written', async () => {
      const key = randomUUID();
      const orders = app.get(OrderRepository);
      // The statement skips the keyed order, as for a key in use, and its look-up then fails.
      const keyTaken = jest
        .spyOn(orders, 'keyTaken')
        .mockImplementation((order) => `${order}.idempotency_key = '${key}'`);
      const lookUp = jest.spyOn(orders, 'keyedOrders').mockImplementation(() => {
        throw new Error('look-up failed');
      });
      const [unkeyed, keyed] = [newStart(), newStart(key)];
      const batcher = app.get(OrderStartBatcher);
      const outcomes = await Promise.allSettled([unkeyed, keyed].map((s) => batcher.apply(s)));
      keyTaken.mockRestore();
      lookUp.mockRestore();
      // Written once and answered as placed, not run again (which would fail on its own order id).
      expect(outcomes).toEqual([
        { status: 'fulfilled', value: undefined },
        { status: 'rejected', reason: new Error('look-up failed') },
      ]);
      expect(await count('orders', 'id = $1', [unkeyed.order.id])).toBe(1);
      expect(await count('orders', 'id = $1', [keyed.order.id])).toBe(0);
    });

    it('gives up on an order whose key the statement keeps finding taken and the look-up does not', async () => {
      const orders = app.get(OrderRepository);
      const keyTaken = jest.spyOn(orders, 'keyTaken').mockReturnValue('true');
      const start = jest.spyOn(app.get(SagaRepository), 'start');
      const stuck = newStart(randomUUID());
      await expect(app.get(OrderStartBatcher).apply(stuck)).rejects.toThrow(
        'orders not started: their keys kept changing',
      );
      expect(start).toHaveBeenCalledTimes(3);
      keyTaken.mockRestore();
      start.mockRestore();
      expect(await count('orders', 'id = $1', [stuck.order.id])).toBe(0);
    });
  });
});
