import { randomUUID } from 'node:crypto';
import { InventoryLowStockV1, InventoryReservedV1 } from '@lib/contracts';
import { query } from '../../../../tests/harness/database';
import { asCustomer, asOperator, bearer } from '../../../../tests/harness/tokens';
import { eventually } from '../../../../tests/harness/wait';
import {
  Caller,
  InventoryTestApp,
  merchantOf,
  orderCreated,
  startInventoryTestApp,
  TENANT,
} from '../../test/inventory-test-app';

const SCHEMA = 'inventory_products_test';

describe('products over HTTP', () => {
  let inventory: InventoryTestApp;
  let merchant: Caller;

  beforeAll(async () => {
    inventory = await startInventoryTestApp(SCHEMA);
    merchant = await merchantOf(TENANT);
  }, 60_000);

  afterAll(async () => {
    await inventory?.close();
  });

  /** The success records of one SKU, oldest first. */
  const audited = (sku: string) =>
    query<{
      action: string;
      actor: string;
      tenant_id: string;
      entity_id: string;
      details: unknown;
    }>(
      `SELECT action, actor, tenant_id, entity_type, entity_id, details FROM ${SCHEMA}.audit_log
        WHERE entity_type = 'product' AND entity_id = $1 AND result = 'success' ORDER BY id`,
      [sku],
    );

  /** Rows of every table a PUT may write, to show that a refused one wrote nothing. */
  async function rowCounts() {
    const [counts] = await query<
      Record<'products' | 'outbox' | 'keys' | 'audited' | 'denied', number>
    >(
      `SELECT (SELECT count(*)::int FROM ${SCHEMA}.products) AS products,
        (SELECT count(*)::int FROM ${SCHEMA}.outbox) AS outbox,
        (SELECT count(*)::int FROM ${SCHEMA}.idempotency_keys) AS keys,
        (SELECT count(*)::int FROM ${SCHEMA}.audit_log WHERE result = 'success') AS audited,
        (SELECT count(*)::int FROM ${SCHEMA}.audit_log WHERE result = 'denied') AS denied`,
    );
    return counts!;
  }

  const valid = {
    name: 'Blue mug',
    priceMinor: 1250,
    currency: 'EUR',
    stock: 12,
    lowStockThreshold: 2,
  };

  it('creates a product, replaces it, and reads it back', async () => {
    const created = await inventory
      .http()
      .put('/inventory/products/MUG.BLUE-1_L')
      .set(merchant)
      .send(valid);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      sku: 'MUG.BLUE-1_L',
      name: 'Blue mug',
      priceMinor: 1250,
      currency: 'EUR',
      available: 12,
      reserved: 0,
      committed: 0,
      lowStockThreshold: 2,
    });

    const replaced = await inventory
      .http()
      .put('/inventory/products/MUG.BLUE-1_L')
      .set(merchant)
      .send({ ...valid, name: 'Navy mug', priceMinor: 1400, stock: 30 })
      .expect(200);
    expect(replaced.body).toMatchObject({ name: 'Navy mug', priceMinor: 1400, available: 30 });
    expect(await inventory.product('MUG.BLUE-1_L')).toEqual(replaced.body);
  });

  it('takes the currency in any case and stores it upper case; refuses a code ISO 4217 does not have', async () => {
    const created = await inventory.putProduct('CASE-1', { currency: 'usd' }).expect(200);
    expect(created.body).toMatchObject({ currency: 'USD' });
    const before = await rowCounts();
    const refused = await inventory.putProduct('CASE-1', { currency: 'XYZ' }).expect(400);
    expect(refused.body).toEqual({
      statusCode: 400,
      code: 'REQUEST.INVALID',
      message: 'currency must be an ISO 4217 currency code like EUR',
    });
    expect(await rowCounts()).toEqual(before);
    expect(await inventory.product('CASE-1')).toMatchObject({ currency: 'USD' });
  });

  it('announces a price when a product is created or its price or currency changes, not on a stock change', async () => {
    const priced = async (sku: string) => {
      await inventory.relayed();
      return (await inventory.inventoryEvents()).filter(
        (event) =>
          event.eventName === 'inventory.product-priced' &&
          (event.payload as { sku: string }).sku === sku,
      );
    };
    await inventory.putProduct('PRICED-1', { priceMinor: 500, currency: 'eur' }).expect(200);
    await inventory.putProduct('PRICED-1', { priceMinor: 500, stock: 99 }).expect(200);
    await inventory.putProduct('PRICED-1', { priceMinor: 650 }).expect(200);
    await inventory.putProduct('PRICED-1', { priceMinor: 650, currency: 'CHF' }).expect(200);
    const events = await priced('PRICED-1');
    expect(events.map((event) => event.payload)).toEqual([
      { sku: 'PRICED-1', priceMinor: 500, currency: 'EUR' },
      { sku: 'PRICED-1', priceMinor: 650, currency: 'EUR' },
      { sku: 'PRICED-1', priceMinor: 650, currency: 'CHF' },
    ]);
    for (const event of events) expect(event).toMatchObject({ tenantId: TENANT });
  });

  it('keeps reserved units reserved and refuses a stock below them', async () => {
    await inventory.putProduct('CHAIR-1', { stock: 5 }).expect(200);
    const order = orderCreated([{ sku: 'CHAIR-1', quantity: 3 }]);
    await inventory.publish(order);
    await eventually(async () =>
      (await inventory.eventsFor(order.payload.orderId)).some(
        (e) => e.eventName === InventoryReservedV1.eventName,
      ),
    );

    const refused = await inventory.putProduct('CHAIR-1', { stock: 2 }).expect(409);
    expect(refused.body).toEqual({
      statusCode: 409,
      code: 'INVENTORY.STOCK_BELOW_RESERVED',
      message: 'product CHAIR-1 has 3 units reserved: stock cannot be set to 2',
    });
    expect(await inventory.product('CHAIR-1')).toMatchObject({ available: 2, reserved: 3 });

    const restocked = await inventory.putProduct('CHAIR-1', { stock: 10 }).expect(200);
    expect(restocked.body).toMatchObject({ available: 7, reserved: 3, committed: 0 });
    // The refused PUT rolled back with its audit record: the create and the restock are left.
    expect((await audited('CHAIR-1')).map((r) => r.action)).toEqual([
      'product.create',
      'product.update',
    ]);
  });

  it('alerts when a PUT leaves a product below its threshold, in the caller’s conversation', async () => {
    const correlationId = randomUUID();
    await inventory
      .putProduct('RARE-1', { stock: 1, lowStockThreshold: 5 })
      .set('X-Correlation-Id', correlationId)
      .expect(200);
    await inventory.relayed();
    const alerts = (await inventory.inventoryEvents()).filter(
      (e) => e.eventName === InventoryLowStockV1.eventName,
    );
    expect(alerts).toEqual([
      expect.objectContaining({
        correlationId,
        tenantId: TENANT,
        payload: { sku: 'RARE-1', available: 1, threshold: 5 },
      }),
    ]);
  });

  it('answers 404 with a code for an unknown product', async () => {
    const response = await inventory
      .http()
      .get('/inventory/products/NOPE-404')
      .set(merchant)
      .expect(404);
    expect(response.body).toEqual({
      statusCode: 404,
      code: 'INVENTORY.PRODUCT_NOT_FOUND',
      message: 'product NOPE-404 does not exist',
    });
  });

  it.each([
    ['lower case', 'mug-1'],
    ['a space', 'MUG%201'],
    ['65 characters', 'A'.repeat(65)],
    ['a leading dot', '.MUG'],
  ])('answers 400 for an SKU with %s', async (_case, sku) => {
    for (const response of [
      await inventory.http().get(`/inventory/products/${sku}`).set(merchant),
      await inventory.http().put(`/inventory/products/${sku}`).set(merchant).send(valid),
    ]) {
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'REQUEST.INVALID', message: /sku must be/ });
    }
  });

  it.each([
    ['an unknown field', { ...valid, color: 'blue' }, 'property color should not exist'],
    ['a missing field', { ...valid, lowStockThreshold: undefined }, 'lowStockThreshold'],
    ['a negative stock', { ...valid, stock: -1 }, 'stock must not be less than 0'],
    ['a fractional price', { ...valid, priceMinor: 12.5 }, 'priceMinor must be an integer'],
    ['a price in a string', { ...valid, priceMinor: '1250' }, 'priceMinor must be an integer'],
    [
      'a currency ISO 4217 does not have',
      { ...valid, currency: 'ABC' },
      'currency must be an ISO 4217',
    ],
    ['a currency of four letters', { ...valid, currency: 'EURO' }, 'currency must be an ISO 4217'],
    ['an empty name', { ...valid, name: '' }, 'name must be longer than or equal to 1'],
    ['a 201-character name', { ...valid, name: 'n'.repeat(201) }, 'name must be shorter'],
  ])(
    'answers 400 JSON naming the problem for %s, and changes nothing',
    async (_c, body, problem) => {
      const response = await inventory
        .http()
        .put('/inventory/products/BAD-1')
        .set(merchant)
        .send(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
      expect(response.body.message).toContain(problem);
      await inventory.http().get('/inventory/products/BAD-1').set(merchant).expect(404);
    },
  );

  describe('who may stock and read products', () => {
    it('answers 401 without a token and 403 to a customer, and writes only the denials', async () => {
      const before = await rowCounts();
      const put = () => inventory.http().put('/inventory/products/DENIED-1');
      const anonymous = await put().set('idempotency-key', 'denied-1').send(valid);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ code: 'AUTH.UNAUTHENTICATED' });
      const customer = await put()
        .set(await asCustomer())
        .set('idempotency-key', 'denied-1')
        .send(valid);
      expect(customer.status).toBe(403);
      expect(customer.body).toMatchObject({ code: 'AUTH.FORBIDDEN' });
      await inventory
        .http()
        .get('/inventory/products/DENIED-1')
        .set(await asCustomer())
        .expect(403);

      expect(await rowCounts()).toEqual({ ...before, denied: before.denied + 3 });
      await inventory.http().get('/inventory/products/DENIED-1').set(merchant).expect(404);
    });

    it('lets an operator of the tenant read products but not change them', async () => {
      const operator = await bearer('operator-a', ['operator'], TENANT);
      await inventory.putProduct('SEEN-1', { stock: 4 }).expect(200);
      expect(await inventory.product('SEEN-1', operator)).toMatchObject({ available: 4 });
      await inventory.putProduct('SEEN-1', { stock: 0 }, operator).expect(403);
      expect(await inventory.product('SEEN-1')).toMatchObject({ available: 4 });
    });
  });

  describe('tenancy', () => {
    it('keeps the products of one SKU in two tenants apart', async () => {
      const otherMerchant = await merchantOf('tenant-b');
      await inventory.putProduct('SHARED-1', { priceMinor: 1000, stock: 5 }).expect(200);

      // B cannot see A's product, and a token without a tenant is in the default one.
      for (const stranger of [otherMerchant, await asOperator()]) {
        const hidden = await inventory
          .http()
          .get('/inventory/products/SHARED-1')
          .set(stranger)
          .expect(404);
        expect(hidden.body).toMatchObject({ code: 'INVENTORY.PRODUCT_NOT_FOUND' });
      }

      // B's PUT of the same SKU creates B's own product and leaves A's alone.
      const own = await inventory
        .putProduct('SHARED-1', { priceMinor: 1, stock: 1000 }, otherMerchant)
        .expect(200);
      expect(own.body).toMatchObject({ priceMinor: 1, available: 1000, reserved: 0 });
      expect(await inventory.product('SHARED-1')).toMatchObject({ priceMinor: 1000, available: 5 });
      expect(await inventory.product('SHARED-1', otherMerchant)).toEqual(own.body);
      expect(await audited('SHARED-1')).toEqual([
        expect.objectContaining({ action: 'product.create', tenant_id: TENANT }),
        expect.objectContaining({ action: 'product.create', tenant_id: 'tenant-b' }),
      ]);
    });
  });

  describe('audit', () => {
    it('records a create and each change once, with the product before and after', async () => {
      await inventory
        .putProduct('AUDIT-1', { name: 'Lamp', priceMinor: 900, stock: 6, lowStockThreshold: 1 })
        .expect(200);
      await inventory
        .putProduct('AUDIT-1', {
          name: 'Lamp XL',
          priceMinor: 1100,
          stock: 9,
          lowStockThreshold: 2,
        })
        .expect(200);

      const lamp = { name: 'Lamp', priceMinor: 900, currency: 'EUR', stock: 6, available: 6 };
      expect(await audited('AUDIT-1')).toEqual([
        {
          action: 'product.create',
          actor: 'merchant-of-tenant-1',
          tenant_id: TENANT,
          entity_type: 'product',
          entity_id: 'AUDIT-1',
          details: { before: null, after: { ...lamp, lowStockThreshold: 1 } },
        },
        {
          action: 'product.update',
          actor: 'merchant-of-tenant-1',
          tenant_id: TENANT,
          entity_type: 'product',
          entity_id: 'AUDIT-1',
          details: {
            before: { ...lamp, lowStockThreshold: 1 },
            after: {
              name: 'Lamp XL',
              priceMinor: 1100,
              currency: 'EUR',
              stock: 9,
              available: 9,
              lowStockThreshold: 2,
            },
          },
        },
      ]);
    });
  });

  describe('Idempotency-Key', () => {
    const put = (sku: string, body: object, key: string, as: Caller = merchant) =>
      inventory
        .http()
        .put(`/inventory/products/${sku}`)
        .set(as)
        .set('idempotency-key', key)
        .send(body);

    it('answers a retry with the first answer and applies it once', async () => {
      const first = await put('IDEM-1', valid, 'stock-idem-1').expect(200);
      // Changed meanwhile: a retry of the first PUT must not put its stock back.
      await inventory.putProduct('IDEM-1', { ...valid, stock: 20 }).expect(200);

      const retry = await put('IDEM-1', valid, 'stock-idem-1').expect(200);
      expect(retry.body).toEqual(first.body);
      expect(await inventory.product('IDEM-1')).toMatchObject({ available: 20 });
      expect((await audited('IDEM-1')).map((r) => r.action)).toEqual([
        'product.create',
        'product.update',
      ]);
    });

    it('refuses the key with another body or another SKU, and changes nothing', async () => {
      await put('IDEM-2', valid, 'stock-idem-2').expect(200);
      const before = await rowCounts();
      for (const [sku, body] of [
        ['IDEM-2', { ...valid, stock: 99 }],
        ['IDEM-3', valid],
      ] as const) {
        const reused = await put(sku, body, 'stock-idem-2').expect(422);
        expect(reused.body).toMatchObject({ code: 'REQUEST.IDEMPOTENCY_KEY_REUSED' });
      }
      expect(await rowCounts()).toEqual(before);
      expect(await inventory.product('IDEM-2')).toMatchObject({ available: valid.stock });
    });

    it('keeps another principal’s key of the same name independent', async () => {
      await put('IDEM-4', valid, 'shared-key').expect(200);
      const colleague = await bearer('merchant-2', ['merchant'], TENANT);
      const other = await put('IDEM-4', { ...valid, stock: 3 }, 'shared-key', colleague);
      expect(other.status).toBe(200);
      expect(other.body).toMatchObject({ available: 3 });
      const otherTenant = await merchantOf('tenant-b');
      await put('IDEM-4', { ...valid, stock: 7 }, 'shared-key', otherTenant).expect(200);

      expect(await inventory.product('IDEM-4')).toMatchObject({ available: 3 });
      expect(await inventory.product('IDEM-4', otherTenant)).toMatchObject({ available: 7 });
      expect((await audited('IDEM-4')).map((r) => [r.actor, r.tenant_id])).toEqual([
        ['merchant-of-tenant-1', TENANT],
        ['merchant-2', TENANT],
        ['merchant-of-tenant-b', 'tenant-b'],
      ]);
    });
  });
});
