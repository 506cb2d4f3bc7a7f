import { randomUUID } from 'node:crypto';
import { InventoryLowStockV1, InventoryReservedV1 } from '@lib/contracts';
import { eventually } from '../../../../tests/harness/wait';
import {
  InventoryTestApp,
  orderCreated,
  startInventoryTestApp,
} from '../../test/inventory-test-app';

const SCHEMA = 'inventory_products_test';

describe('products over HTTP', () => {
  let inventory: InventoryTestApp;

  beforeAll(async () => {
    inventory = await startInventoryTestApp(SCHEMA);
  }, 60_000);

  afterAll(async () => {
    await inventory?.close();
  });

  const valid = {
    name: 'Blue mug',
    priceMinor: 1250,
    currency: 'EUR',
    stock: 12,
    lowStockThreshold: 2,
  };

  it('creates a product, replaces it, and reads it back', async () => {
    const created = await inventory.http().put('/inventory/products/MUG.BLUE-1_L').send(valid);
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
      .send({ ...valid, name: 'Navy mug', priceMinor: 1400, stock: 30 })
      .expect(200);
    expect(replaced.body).toMatchObject({ name: 'Navy mug', priceMinor: 1400, available: 30 });
    const read = await inventory.http().get('/inventory/products/MUG.BLUE-1_L').expect(200);
    expect(read.body).toEqual(replaced.body);
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
    const unchanged = await inventory.http().get('/inventory/products/CHAIR-1').expect(200);
    expect(unchanged.body).toMatchObject({ available: 2, reserved: 3 });

    const restocked = await inventory.putProduct('CHAIR-1', { stock: 10 }).expect(200);
    expect(restocked.body).toMatchObject({ available: 7, reserved: 3, committed: 0 });
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
        payload: { sku: 'RARE-1', available: 1, threshold: 5 },
      }),
    ]);
  });

  it('answers 404 with a code for an unknown product', async () => {
    const response = await inventory.http().get('/inventory/products/NOPE-404').expect(404);
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
      await inventory.http().get(`/inventory/products/${sku}`),
      await inventory.http().put(`/inventory/products/${sku}`).send(valid),
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
    ['a lower-case currency', { ...valid, currency: 'eur' }, 'currency must be an ISO 4217'],
    ['an empty name', { ...valid, name: '' }, 'name must be longer than or equal to 1'],
    ['a 201-character name', { ...valid, name: 'n'.repeat(201) }, 'name must be shorter'],
  ])(
    'answers 400 JSON naming the problem for %s, and changes nothing',
    async (_c, body, problem) => {
      const response = await inventory.http().put('/inventory/products/BAD-1').send(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
      expect(response.body.message).toContain(problem);
      await inventory.http().get('/inventory/products/BAD-1').expect(404);
    },
  );
});
