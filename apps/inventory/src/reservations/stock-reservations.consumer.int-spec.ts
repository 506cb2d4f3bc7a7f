import { randomUUID } from 'node:crypto';
import {
  createEvent,
  EventDefinition,
  EventEnvelope,
  InventoryCommittedV1,
  InventoryLowStockV1,
  InventoryOutOfStockV1,
  InventoryReleasedV1,
  InventoryReservedV1,
  OrderCancelledV1,
  OrderConfirmedV1,
  OrderCreatedV1,
  OrderCreatedV1Payload,
  subjectFor,
} from '@lib/contracts';
import { query } from '../../../../tests/harness/database';
import { asCustomer, asMerchant, asOperator, bearer } from '../../../../tests/harness/tokens';
import { eventually } from '../../../../tests/harness/wait';
import { metricValue } from '../../../../tests/harness/metrics';
import { JetStreamContext, messagingMetrics } from '@lib/messaging';
import { StockReservationsConsumer } from './stock-reservations.consumer';
import {
  InventoryTestApp,
  merchantOf,
  orderCreated,
  startInventoryTestApp,
  TENANT,
} from '../../test/inventory-test-app';

const SCHEMA = 'inventory_reservations_test';

describe('stock reservations', () => {
  let inventory: InventoryTestApp;

  beforeAll(async () => {
    // A cleaner pass every 100 ms: with the default 15-minute TTL it only finds what a test expires.
    inventory = await startInventoryTestApp(SCHEMA, { RESERVATION_CLEANER_INTERVAL_MS: '100' });
  }, 60_000);

  afterAll(async () => {
    await inventory?.close();
  });

  const reservations = (orderId: string) => inventory.reservations(orderId);

  /** Waits for the first event of this kind about the order. */
  function reply<P extends object>(
    orderId: string,
    definition: EventDefinition<P>,
  ): Promise<EventEnvelope<P>> {
    return eventually(
      async () =>
        (await inventory.eventsFor(orderId)).find(
          (e): e is EventEnvelope<P> => e.eventName === definition.eventName,
        ),
      { what: `${definition.eventName} for order ${orderId}` },
    );
  }

  async function reserve(event: EventEnvelope<OrderCreatedV1Payload>) {
    await inventory.publish(event);
    return reply(event.payload.orderId, InventoryReservedV1);
  }

  function cancelled(created: EventEnvelope<OrderCreatedV1Payload>) {
    const { orderId } = created.payload;
    return createEvent(OrderCancelledV1, { orderId, reason: 'customer' }, { cause: created });
  }

  function confirmed(created: EventEnvelope<OrderCreatedV1Payload>, amountMinor: number) {
    const { orderId, currency } = created.payload;
    return createEvent(OrderConfirmedV1, { orderId, amountMinor, currency }, { cause: created });
  }

  async function lowStockAlerts(sku: string) {
    await inventory.relayed();
    return (await inventory.inventoryEvents()).filter(
      (e) =>
        e.eventName === InventoryLowStockV1.eventName &&
        (e.payload as { sku?: string }).sku === sku,
    );
  }

  it('reserves every line at its catalogue price until the TTL runs out', async () => {
    await inventory.putProduct('APPLE-1', { priceMinor: 120, stock: 10 }).expect(200);
    await inventory.putProduct('PEAR-1', { priceMinor: 90, stock: 5 }).expect(200);
    const created = orderCreated([
      { sku: 'PEAR-1', quantity: 1 },
      { sku: 'APPLE-1', quantity: 2 },
    ]);
    const publishedAt = Date.now();
    const reserved = await reserve(created);

    expect(reserved).toMatchObject({
      correlationId: created.correlationId,
      causationId: created.eventId,
      sagaId: created.sagaId,
      tenantId: 'tenant-1',
      payload: {
        orderId: created.payload.orderId,
        reservationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        lines: [
          { sku: 'APPLE-1', quantity: 2, unitPriceMinor: 120 },
          { sku: 'PEAR-1', quantity: 1, unitPriceMinor: 90 },
        ],
        totalMinor: 330,
        currency: 'EUR',
      },
    });
    const ttlLeft = Date.parse(reserved.payload.expiresAt) - publishedAt;
    expect(ttlLeft).toBeGreaterThan(15 * 60_000 - 5_000);
    expect(ttlLeft).toBeLessThanOrEqual(15 * 60_000 + 5_000);
    expect(await inventory.product('APPLE-1')).toMatchObject({
      available: 8,
      reserved: 2,
      committed: 0,
    });
    expect(await reservations(created.payload.orderId)).toEqual([
      {
        reservationId: reserved.payload.reservationId,
        orderId: created.payload.orderId,
        status: 'ACTIVE',
        lines: reserved.payload.lines,
        totalMinor: 330,
        currency: 'EUR',
        expiresAt: reserved.payload.expiresAt,
      },
    ]);
  });

  it('reserves nothing and lists every missing line, unknown SKUs included', async () => {
    await inventory.putProduct('BOLT-1', { stock: 3 }).expect(200);
    await inventory.putProduct('NUT-1', { stock: 10 }).expect(200);
    await inventory.putProduct('YEN-1', { stock: 10, currency: 'JPY' }).expect(200);
    const created = orderCreated([
      { sku: 'NUT-1', quantity: 2 },
      { sku: 'BOLT-1', quantity: 5 },
      { sku: 'GHOST-1', quantity: 1 },
      { sku: 'YEN-1', quantity: 1 },
    ]);
    await inventory.publish(created);

    const outOfStock = await reply(created.payload.orderId, InventoryOutOfStockV1);
    expect(outOfStock.causationId).toBe(created.eventId);
    expect(outOfStock.payload.missing).toEqual([
      { sku: 'BOLT-1', requested: 5, available: 3 },
      { sku: 'GHOST-1', requested: 1, available: 0 },
      // Priced in another currency: none of it can be sold in EUR.
      { sku: 'YEN-1', requested: 1, available: 0 },
    ]);
    expect(await inventory.product('NUT-1')).toMatchObject({ available: 10, reserved: 0 });
    expect(await inventory.product('BOLT-1')).toMatchObject({ available: 3, reserved: 0 });
    expect(await reservations(created.payload.orderId)).toEqual([]);
    const events = await inventory.eventsFor(created.payload.orderId);
    expect(events.map((e) => e.eventName)).toEqual([InventoryOutOfStockV1.eventName]);
  });

  it('releases the stock of a cancelled order and re-arms the low-stock alert', async () => {
    await inventory.putProduct('LAMP-1', { stock: 5, lowStockThreshold: 3 }).expect(200);
    const first = orderCreated([{ sku: 'LAMP-1', quantity: 3 }]);
    const reserved = await reserve(first);
    expect(await lowStockAlerts('LAMP-1')).toHaveLength(1);

    await inventory.publish(cancelled(first));
    const released = await reply(first.payload.orderId, InventoryReleasedV1);
    expect(released).toMatchObject({
      correlationId: first.correlationId,
      sagaId: first.sagaId,
      tenantId: TENANT,
      payload: {
        orderId: first.payload.orderId,
        reservationId: reserved.payload.reservationId,
        reason: 'cancelled',
      },
    });
    expect(await inventory.product('LAMP-1')).toMatchObject({
      available: 5,
      reserved: 0,
      committed: 0,
    });
    expect(await reservations(first.payload.orderId)).toEqual([
      expect.objectContaining({ status: 'RELEASED', releasedReason: 'cancelled' }),
    ]);

    // Back above the threshold: the next crossing alerts again.
    await reserve(orderCreated([{ sku: 'LAMP-1', quantity: 3 }]));
    expect(await lowStockAlerts('LAMP-1')).toHaveLength(2);
  });

  it('alerts low stock once per crossing, with the change that crossed', async () => {
    await inventory.putProduct('DESK-1', { stock: 10, lowStockThreshold: 5 }).expect(200);
    await reserve(orderCreated([{ sku: 'DESK-1', quantity: 4 }]));
    expect(await lowStockAlerts('DESK-1')).toHaveLength(0);
    const crossing = orderCreated([{ sku: 'DESK-1', quantity: 2 }]);
    await reserve(crossing);
    await reserve(orderCreated([{ sku: 'DESK-1', quantity: 1 }]));

    const [alert, ...more] = await lowStockAlerts('DESK-1');
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      causationId: crossing.eventId,
      correlationId: crossing.correlationId,
      tenantId: TENANT,
      payload: { sku: 'DESK-1', available: 4, threshold: 5 },
    });

    // A restock re-arms it; the next fall below the threshold alerts again.
    await inventory.putProduct('DESK-1', { stock: 20, lowStockThreshold: 5 }).expect(200);
    expect(await inventory.product('DESK-1')).toMatchObject({ available: 13, reserved: 7 });
    await reserve(orderCreated([{ sku: 'DESK-1', quantity: 9 }]));
    const alerts = await lowStockAlerts('DESK-1');
    expect(alerts.map((a) => a.payload)).toEqual([
      { sku: 'DESK-1', available: 4, threshold: 5 },
      { sku: 'DESK-1', available: 4, threshold: 5 },
    ]);
  });

  it('leaves a tombstone when the cancel comes first, so the late order.created reserves nothing', async () => {
    await inventory.putProduct('BOOK-1', { stock: 5 }).expect(200);
    const created = orderCreated([{ sku: 'BOOK-1', quantity: 1 }]);
    const { orderId } = created.payload;

    await inventory.publish(cancelled(created));
    await eventually(async () => (await reservations(orderId)).length === 1, {
      what: 'the tombstone',
    });
    expect(await reservations(orderId)).toEqual([
      {
        reservationId: expect.any(String),
        orderId,
        status: 'CANCELLED',
        lines: [],
        totalMinor: 0,
        currency: null,
        expiresAt: null,
      },
    ]);

    await inventory.handled(OrderCreatedV1.subject, await inventory.publish(created));
    await inventory.relayed();
    expect(await inventory.eventsFor(orderId)).toEqual([]);
    expect(await inventory.product('BOOK-1')).toMatchObject({ available: 5, reserved: 0 });
    expect(await reservations(orderId)).toEqual([expect.objectContaining({ status: 'CANCELLED' })]);
  });

  it('commits the reservation of a confirmed order once, and a later cancel releases nothing', async () => {
    await inventory.putProduct('PHONE-1', { stock: 4, priceMinor: 50_000 }).expect(200);
    const created = orderCreated([{ sku: 'PHONE-1', quantity: 1 }]);
    const { orderId } = created.payload;
    const reserved = await reserve(created);

    await inventory.publish(confirmed(created, 50_000));
    const committed = await reply(orderId, InventoryCommittedV1);
    expect(committed).toMatchObject({
      correlationId: created.correlationId,
      tenantId: TENANT,
      payload: { orderId, reservationId: reserved.payload.reservationId },
    });
    expect(await inventory.product('PHONE-1')).toMatchObject({
      available: 3,
      reserved: 0,
      committed: 1,
    });

    await inventory.handled(
      OrderConfirmedV1.subject,
      await inventory.publish(confirmed(created, 50_000)),
    );
    await inventory.handled(OrderCancelledV1.subject, await inventory.publish(cancelled(created)));
    await inventory.relayed();
    expect((await inventory.eventsFor(orderId)).map((e) => e.eventName)).toEqual([
      'inventory.reserved',
      'inventory.committed',
    ]);
    expect(await inventory.product('PHONE-1')).toMatchObject({
      available: 3,
      reserved: 0,
      committed: 1,
    });
    expect(await reservations(orderId)).toEqual([expect.objectContaining({ status: 'COMMITTED' })]);
  });

  it('applies an event delivered twice once', async () => {
    await inventory.putProduct('CUP-1', { stock: 10 }).expect(200);
    const created = orderCreated([{ sku: 'CUP-1', quantity: 2 }]);
    const { orderId } = created.payload;
    await inventory.publish(created, { asCopy: true });
    await inventory.handled(
      OrderCreatedV1.subject,
      await inventory.publish(created, { asCopy: true }),
    );
    const cancel = cancelled(created);
    await inventory.publish(cancel, { asCopy: true });
    await inventory.handled(
      OrderCancelledV1.subject,
      await inventory.publish(cancel, { asCopy: true }),
    );
    await inventory.relayed();

    expect((await inventory.eventsFor(orderId)).map((e) => e.eventName)).toEqual([
      'inventory.reserved',
      'inventory.released',
    ]);
    expect(await inventory.product('CUP-1')).toMatchObject({ available: 10, reserved: 0 });
  });

  it("answers an operator's retry of order.created (a new event id) with the reservation it holds, reserving nothing more", async () => {
    await inventory.putProduct('KETTLE-1', { stock: 10, priceMinor: 3000 }).expect(200);
    const created = orderCreated([{ sku: 'KETTLE-1', quantity: 2 }]);
    const { orderId } = created.payload;
    const first = await reserve(created);
    const retried = { ...created, eventId: randomUUID() };
    await inventory.handled(OrderCreatedV1.subject, await inventory.publish(retried));
    await inventory.relayed();

    const answers = (await inventory.eventsFor(orderId)).filter(
      (e) => e.eventName === InventoryReservedV1.eventName,
    );
    expect(answers).toHaveLength(2);
    expect(answers[1]).toMatchObject({ causationId: retried.eventId, payload: first.payload });
    expect(await inventory.product('KETTLE-1')).toMatchObject({ available: 8, reserved: 2 });
    expect(await reservations(orderId)).toHaveLength(1);
  });

  it("confirms again a release an operator's retry of order.cancelled asks for, giving back nothing more", async () => {
    await inventory.putProduct('TOASTER-1', { stock: 10 }).expect(200);
    const created = orderCreated([{ sku: 'TOASTER-1', quantity: 3 }]);
    const { orderId } = created.payload;
    await reserve(created);
    await inventory.publish(cancelled(created));
    const first = await reply(orderId, InventoryReleasedV1);
    const retried = cancelled(created);
    await inventory.handled(OrderCancelledV1.subject, await inventory.publish(retried));
    await inventory.relayed();

    const answers = (await inventory.eventsFor(orderId)).filter(
      (e) => e.eventName === InventoryReleasedV1.eventName,
    );
    expect(answers).toHaveLength(2);
    expect(answers[1]).toMatchObject({ causationId: retried.eventId, payload: first.payload });
    expect(await inventory.product('TOASTER-1')).toMatchObject({ available: 10, reserved: 0 });
  });

  it('expires a reservation on schedule once its TTL has run out', async () => {
    await inventory.putProduct('MILK-1', { stock: 3 }).expect(200);
    const created = orderCreated([{ sku: 'MILK-1', quantity: 2 }]);
    await reserve(created);
    await query(
      `UPDATE ${SCHEMA}.reservations SET expires_at = now() - interval '1 second' WHERE order_id = $1`,
      [created.payload.orderId],
    );

    const released = await reply(created.payload.orderId, InventoryReleasedV1);
    expect(released.payload.reason).toBe('expired');
    expect(await inventory.product('MILK-1')).toMatchObject({ available: 3, reserved: 0 });
  });

  it('never oversells: 200 concurrent orders of one unit against 50 in stock', async () => {
    await inventory.putProduct('HOT-1', { stock: 50 }).expect(200);
    const orders = Array.from({ length: 200 }, () => orderCreated([{ sku: 'HOT-1', quantity: 1 }]));
    const sequences = await Promise.all(orders.map((order) => inventory.publish(order)));
    await inventory.handled(OrderCreatedV1.subject, Math.max(...sequences));
    await inventory.relayed();

    const orderIds = new Set(orders.map((order) => order.payload.orderId));
    const replies = (await inventory.inventoryEvents()).filter((e) =>
      orderIds.has((e.payload as { orderId: string }).orderId),
    );
    const count = (eventName: string) => replies.filter((e) => e.eventName === eventName).length;
    expect(count(InventoryReservedV1.eventName)).toBe(50);
    expect(count(InventoryOutOfStockV1.eventName)).toBe(150);
    const hot = await inventory.product('HOT-1');
    expect(hot).toMatchObject({ available: 0, reserved: 50, committed: 0 });
    expect(hot.available + hot.reserved + hot.committed).toBe(50);
  }, 120_000);

  describe('a batch of deliveries that arrive together', () => {
    /** Hands deliveries to the consumer in one event-loop turn, as the transport does. */
    function deliverTogether<E extends EventEnvelope>(
      handler: (event: E, context: JetStreamContext) => Promise<void>,
      events: E[],
    ) {
      const contexts = events.map(
        () =>
          new JetStreamContext([
            { message: undefined as never, stream: 'ORDERS', consumer: 'batch-test' },
          ]),
      );
      const consumer = inventory.app.get(StockReservationsConsumer);
      const outcomes = Promise.allSettled(
        events.map((event, i) => handler.call(consumer, event, contexts[i]!)),
      );
      return { outcomes, contexts };
    }
    const consumer = () => inventory.app.get(StockReservationsConsumer);

    it('decides each order against the stock the ones before it left', async () => {
      await inventory.putProduct('BATCH-1', { stock: 2 }).expect(200);
      const orders = [1, 1, 1].map((quantity) => orderCreated([{ sku: 'BATCH-1', quantity }]));
      const { outcomes } = deliverTogether(consumer().orderCreated, orders);
      expect((await outcomes).map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);

      const [first, second, third] = orders.map((order) => order.payload.orderId);
      expect((await reply(first!, InventoryReservedV1)).payload.totalMinor).toBe(1000);
      await reply(second!, InventoryReservedV1);
      expect((await reply(third!, InventoryOutOfStockV1)).payload.missing).toEqual([
        { sku: 'BATCH-1', requested: 1, available: 0 },
      ]);
      expect(await inventory.product('BATCH-1')).toMatchObject({ available: 0, reserved: 2 });
    });

    it('reserves the orders of two tenants in one batch, each from its own product', async () => {
      const otherMerchant = await merchantOf('tenant-b');
      await inventory.putProduct('BATCH-T', { stock: 1 }).expect(200);
      await inventory.putProduct('BATCH-T', { stock: 3 }, otherMerchant).expect(200);
      const ours = orderCreated([{ sku: 'BATCH-T', quantity: 1 }]);
      const theirs = orderCreated([{ sku: 'BATCH-T', quantity: 3 }], 'EUR', 'tenant-b');
      const { outcomes } = deliverTogether(consumer().orderCreated, [ours, theirs]);
      expect((await outcomes).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);

      expect((await reply(ours.payload.orderId, InventoryReservedV1)).tenantId).toBe(TENANT);
      expect((await reply(theirs.payload.orderId, InventoryReservedV1)).tenantId).toBe('tenant-b');
      expect(await inventory.product('BATCH-T')).toMatchObject({ available: 0, reserved: 1 });
      expect(await inventory.product('BATCH-T', otherMerchant)).toMatchObject({
        available: 0,
        reserved: 3,
      });
    });

    it('applies the rest of a batch when one order fails, and fails only that one', async () => {
      await inventory.putProduct('BATCH-2', { stock: 10 }).expect(200);
      await inventory
        .putProduct('BATCH-HUGE', { stock: 10, priceMinor: Number.MAX_SAFE_INTEGER })
        .expect(200);
      const good = orderCreated([{ sku: 'BATCH-2', quantity: 1 }]);
      const tooDear = orderCreated([{ sku: 'BATCH-HUGE', quantity: 2 }]);
      const alsoGood = orderCreated([{ sku: 'BATCH-2', quantity: 2 }]);
      const { outcomes } = deliverTogether(consumer().orderCreated, [good, tooDear, alsoGood]);

      expect(await outcomes).toMatchObject([
        { status: 'fulfilled' },
        {
          status: 'rejected',
          reason: { message: expect.stringMatching(/more than a JSON number can hold/) },
        },
        { status: 'fulfilled' },
      ]);
      await reply(good.payload.orderId, InventoryReservedV1);
      await reply(alsoGood.payload.orderId, InventoryReservedV1);
      expect(await reservations(tooDear.payload.orderId)).toEqual([]);
      expect(await inventory.product('BATCH-2')).toMatchObject({ available: 7, reserved: 3 });
      expect(await inventory.product('BATCH-HUGE')).toMatchObject({ available: 10, reserved: 0 });
    });

    it('applies an event delivered twice at once only once', async () => {
      await inventory.putProduct('BATCH-3', { stock: 5 }).expect(200);
      const created = orderCreated([{ sku: 'BATCH-3', quantity: 2 }]);
      const { outcomes, contexts } = deliverTogether(consumer().orderCreated, [created, created]);
      expect((await outcomes).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);

      expect(contexts.map((context) => context.duplicate)).toEqual([false, true]);
      await inventory.relayed();
      expect((await inventory.eventsFor(created.payload.orderId)).map((e) => e.eventName)).toEqual([
        'inventory.reserved',
      ]);
      expect(await inventory.product('BATCH-3')).toMatchObject({ available: 3, reserved: 2 });
    });

    it('commits and cancels batches of orders, each as its reservation allows', async () => {
      await inventory.putProduct('BATCH-4', { stock: 10 }).expect(200);
      const [paid, alsoPaid, dropped] = [1, 2, 3].map((quantity) =>
        orderCreated([{ sku: 'BATCH-4', quantity }]),
      );
      for (const order of [paid!, alsoPaid!, dropped!]) await reserve(order);
      const neverReserved = orderCreated([{ sku: 'BATCH-4', quantity: 4 }]);

      const confirming = deliverTogether(consumer().orderConfirmed, [
        confirmed(paid!, 1000),
        confirmed(neverReserved, 4000),
        confirmed(alsoPaid!, 2000),
      ]);
      expect((await confirming.outcomes).map((o) => o.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      const cancelling = deliverTogether(consumer().orderCancelled, [
        cancelled(paid!),
        cancelled(dropped!),
        cancelled(neverReserved),
      ]);
      expect((await cancelling.outcomes).map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);

      await reply(paid!.payload.orderId, InventoryCommittedV1);
      await reply(alsoPaid!.payload.orderId, InventoryCommittedV1);
      expect((await reply(dropped!.payload.orderId, InventoryReleasedV1)).payload.reason).toBe(
        'cancelled',
      );
      expect((await reservations(neverReserved.payload.orderId))[0]?.status).toBe('CANCELLED');
      await inventory.relayed();
      // The committed order's cancel released nothing.
      expect(
        (await inventory.eventsFor(paid!.payload.orderId)).map((e) => e.eventName),
      ).not.toContain('inventory.released');
      expect(await inventory.product('BATCH-4')).toMatchObject({
        available: 7,
        reserved: 0,
        committed: 3,
      });
    });
  });

  it('exposes its metrics', async () => {
    const metrics = (await inventory.http().get('/metrics').expect(200)).text;
    for (const name of [
      'reservations_active',
      'reservations_expired_total',
      'inventory_reserved_total',
      'inventory_released_total',
      'stock_low_alerts_total',
    ]) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
    expect(metrics).toMatch(/inventory_released_total\{[^}]*reason="cancelled"[^}]*\} [1-9]/);
  });

  describe('tenancy', () => {
    it('reserves from the products of the order’s tenant only', async () => {
      const otherTenant = 'tenant-b';
      const otherMerchant = await merchantOf(otherTenant);
      await inventory.putProduct('ONLY-A-1', { stock: 5, lowStockThreshold: 4 }).expect(200);

      // Tenant B has no such product: A's stock is not B's to sell.
      const stranger = orderCreated([{ sku: 'ONLY-A-1', quantity: 2 }], 'EUR', otherTenant);
      await inventory.publish(stranger);
      const outOfStock = await reply(stranger.payload.orderId, InventoryOutOfStockV1);
      expect(outOfStock).toMatchObject({
        tenantId: otherTenant,
        payload: { missing: [{ sku: 'ONLY-A-1', requested: 2, available: 0 }] },
      });

      // Once B stocks the SKU, B's order takes B's units and A's stay where they were.
      await inventory
        .putProduct('ONLY-A-1', { stock: 2, lowStockThreshold: 1 }, otherMerchant)
        .expect(200);
      const own = orderCreated([{ sku: 'ONLY-A-1', quantity: 2 }], 'EUR', otherTenant);
      const reserved = await reserve(own);
      expect(reserved.tenantId).toBe(otherTenant);
      expect(await inventory.product('ONLY-A-1', otherMerchant)).toMatchObject({
        available: 0,
        reserved: 2,
      });
      expect(await inventory.product('ONLY-A-1')).toMatchObject({ available: 5, reserved: 0 });
      // B's low-stock alert is B's; A never crossed its threshold.
      const alerts = await lowStockAlerts('ONLY-A-1');
      expect(alerts.map((alert) => alert.tenantId)).toEqual([otherTenant]);

      // Each tenant's operator sees its own tenant's reservations only.
      const otherOperator = await bearer('operator-b', ['operator'], otherTenant);
      expect(await inventory.reservations(own.payload.orderId, otherOperator)).toEqual([
        expect.objectContaining({ status: 'ACTIVE', totalMinor: 2000 }),
      ]);
      expect(await reservations(own.payload.orderId)).toEqual([]);

      // Its release gives the units back to B's product.
      await inventory.publish(cancelled(own));
      await reply(own.payload.orderId, InventoryReleasedV1);
      expect(await inventory.product('ONLY-A-1', otherMerchant)).toMatchObject({
        available: 2,
        reserved: 0,
      });
      expect(await inventory.product('ONLY-A-1')).toMatchObject({ available: 5, reserved: 0 });
    });

    it('reserves an order that names no tenant from the default tenant’s products', async () => {
      await inventory.putProduct('DEFAULT-1', { stock: 3 }, await asMerchant()).expect(200);
      const created = orderCreated([{ sku: 'DEFAULT-1', quantity: 1 }]);
      delete created.tenantId;
      const reserved = await reserve(created);
      expect(reserved.tenantId).toBe('default');
      expect(await inventory.product('DEFAULT-1', await asMerchant())).toMatchObject({
        available: 2,
        reserved: 1,
      });
      expect(await inventory.reservations(created.payload.orderId, await asOperator())).toEqual([
        expect.objectContaining({ status: 'ACTIVE' }),
      ]);
    });

    it('dead-letters an event of another tenant naming an order, and changes nothing', async () => {
      await inventory.putProduct('GUARDED-1', { stock: 4 }).expect(200);
      const created = orderCreated([{ sku: 'GUARDED-1', quantity: 3 }]);
      const { orderId } = created.payload;
      await reserve(created);
      const forged = createEvent(
        OrderCancelledV1,
        { orderId, reason: 'customer' },
        { cause: created, tenantId: 'tenant-b' },
      );

      await inventory.publish(forged);
      // Refused at once, not retried: the transaction that would have released it rolled back.
      const letter = await eventually(async () =>
        (await inventory.deadLetters()).find((dead) => dead.body.includes(forged.eventId)),
      );
      expect(letter).toMatchObject({
        deliveries: 1,
        error: expect.stringMatching(/of tenant tenant-1 named by an event of tenant-b/),
      });
      await inventory.settled(subjectFor(forged.eventName, forged.eventVersion));
      await inventory.relayed();
      expect((await inventory.eventsFor(orderId)).map((e) => e.eventName)).toEqual([
        'inventory.reserved',
      ]);
      expect(await reservations(orderId)).toEqual([expect.objectContaining({ status: 'ACTIVE' })]);
      expect(await inventory.product('GUARDED-1')).toMatchObject({ available: 1, reserved: 3 });
    });
  });

  describe('order events that do not belong to the reservation', () => {
    const rejected = (reason: string) => metricValue(messagingMetrics.repliesRejected, { reason });

    async function refused(forged: EventEnvelope, reason: string) {
      const before = await rejected(reason);
      await inventory.publish(forged);
      const letter = await eventually(async () =>
        (await inventory.deadLetters()).find((dead) => dead.body.includes(forged.eventId)),
      );
      expect(letter).toMatchObject({
        deliveries: 1,
        error: expect.stringMatching(`^PermanentEventError: ${reason}: `),
      });
      await inventory.settled(subjectFor(forged.eventName, forged.eventVersion));
      expect(await rejected(reason)).toBe(before + 1);
    }

    it.each([
      ['amount', { amountMinor: 1 }, {}],
      ['currency', { currency: 'USD' }, {}],
      ['saga', {}, { sagaId: randomUUID() }],
    ])(
      'dead-letters an order.confirmed of another %s, commits nothing, and takes the real one',
      async (reason, payload, origin) => {
        const sku = `CHECKED-${reason.toUpperCase()}`;
        await inventory.putProduct(sku, { stock: 4, priceMinor: 700 }).expect(200);
        const created = orderCreated([{ sku, quantity: 2 }]);
        const { orderId, currency } = created.payload;
        await reserve(created);
        const forged = createEvent(
          OrderConfirmedV1,
          { orderId, amountMinor: 1400, currency, ...payload },
          { cause: created, ...origin },
        );
        await refused(forged, reason);
        expect(await reservations(orderId)).toEqual([
          expect.objectContaining({ status: 'ACTIVE' }),
        ]);
        expect(await inventory.product(sku)).toMatchObject({ committed: 0 });

        await inventory.publish(confirmed(created, 1400));
        await reply(orderId, InventoryCommittedV1);
      },
    );

    it('dead-letters an order.cancelled of another saga, and releases nothing', async () => {
      await inventory.putProduct('CHECKED-CANCEL', { stock: 4 }).expect(200);
      const created = orderCreated([{ sku: 'CHECKED-CANCEL', quantity: 1 }]);
      const { orderId } = created.payload;
      await reserve(created);
      const forged = createEvent(
        OrderCancelledV1,
        { orderId, reason: 'customer' },
        { cause: created, sagaId: randomUUID() },
      );
      await refused(forged, 'saga');
      expect(await reservations(orderId)).toEqual([expect.objectContaining({ status: 'ACTIVE' })]);
    });

    it('dead-letters an order.confirmed of an order it has never seen', async () => {
      const orderId = randomUUID();
      await refused(
        createEvent(OrderConfirmedV1, { orderId, amountMinor: 100, currency: 'EUR' }),
        'unknown-order',
      );
      expect(await reservations(orderId)).toEqual([]);
    });
  });

  describe('GET /inventory/reservations', () => {
    it('answers a merchant of the tenant, and 401 or 403 to those without reservations:read', async () => {
      await inventory.putProduct('LISTED-1', { stock: 1 }).expect(200);
      const created = orderCreated([{ sku: 'LISTED-1', quantity: 1 }]);
      await reserve(created);
      const { orderId } = created.payload;
      expect(await inventory.reservations(orderId, await merchantOf(TENANT))).toEqual([
        expect.objectContaining({ orderId, status: 'ACTIVE' }),
      ]);
      const list = () => inventory.http().get('/inventory/reservations').query({ orderId });
      await list().expect(401);
      await list()
        .set(await asCustomer())
        .expect(403);
    });

    it.each([
      ['without orderId', {}],
      ['with a malformed orderId', { orderId: 'not-a-uuid' }],
      ['with an unknown parameter', { orderId: randomUUID(), sku: 'A' }],
    ])('answers 400 %s', async (_case, params) => {
      const response = await inventory
        .http()
        .get('/inventory/reservations')
        .set(await asOperator())
        .query(params)
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
      expect(response.body.message).toMatch(/orderId|sku/);
    });
  });
});
