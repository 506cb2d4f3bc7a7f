import {
  createEvent,
  EventEnvelope,
  InventoryReleasedV1,
  InventoryReleasedV1Payload,
  InventoryReservedV1,
  OrderConfirmedV1,
  OrderCreatedV1,
} from '@lib/contracts';
import { eventually } from '../../../../tests/harness/wait';
import {
  InventoryTestApp,
  merchantOf,
  orderCreated,
  startInventoryTestApp,
  TENANT,
} from '../../test/inventory-test-app';
import { ReservationCleaner } from './reservation-cleaner';

const SCHEMA = 'inventory_cleaner_test';
const BATCH = 5;

describe('reservation cleaner', () => {
  let inventory: InventoryTestApp;
  let cleaner: ReservationCleaner;

  beforeAll(async () => {
    // Every reservation is due at once; the scheduled pass never runs during the suite.
    inventory = await startInventoryTestApp(SCHEMA, {
      RESERVATION_TTL_MS: '1',
      RESERVATION_CLEANER_INTERVAL_MS: '3600000',
      RESERVATION_CLEANER_BATCH: String(BATCH),
    });
    cleaner = inventory.app.get(ReservationCleaner);
  }, 60_000);

  afterAll(async () => {
    await inventory?.close();
  });

  /** Publishes the orders and waits until each is reserved. */
  async function reserveAll(orders: EventEnvelope<{ orderId: string }>[]): Promise<void> {
    const sequences = await Promise.all(orders.map((order) => inventory.publish(order)));
    await inventory.handled(OrderCreatedV1.subject, Math.max(...sequences));
  }

  async function releases(
    orderIds: string[],
  ): Promise<EventEnvelope<InventoryReleasedV1Payload>[]> {
    await inventory.relayed();
    return (await inventory.inventoryEvents()).filter(
      (e): e is EventEnvelope<InventoryReleasedV1Payload> =>
        e.eventName === InventoryReleasedV1.eventName &&
        orderIds.includes((e.payload as InventoryReleasedV1Payload).orderId),
    );
  }

  it('expires overdue reservations, returns their stock and publishes released(expired)', async () => {
    await inventory.putProduct('TENT-1', { stock: 4 }).expect(200);
    const created = orderCreated([{ sku: 'TENT-1', quantity: 3 }]);
    const { orderId } = created.payload;
    await reserveAll([created]);
    const reserved = await eventually(async () =>
      (await inventory.eventsFor(orderId)).find(
        (e) => e.eventName === InventoryReservedV1.eventName,
      ),
    );
    expect(await inventory.product('TENT-1')).toMatchObject({ available: 1, reserved: 3 });

    expect(await cleaner.expireDue()).toBe(1);
    expect(await cleaner.expireDue()).toBe(0);

    const [released, ...more] = await releases([orderId]);
    expect(more).toEqual([]);
    // No event caused it: the release joins the order's conversation stored with the reservation.
    expect(released).toMatchObject({
      correlationId: created.correlationId,
      sagaId: created.sagaId,
      tenantId: created.tenantId,
      causationId: null,
      payload: {
        orderId,
        reservationId: (reserved.payload as { reservationId: string }).reservationId,
        reason: 'expired',
      },
    });
    expect(await inventory.product('TENT-1')).toMatchObject({
      available: 4,
      reserved: 0,
      committed: 0,
    });
    expect(await inventory.reservations(orderId)).toEqual([
      expect.objectContaining({ status: 'EXPIRED', releasedReason: 'expired' }),
    ]);

    // The saga compensates a late confirmation; inventory must not sell stock it gave back.
    const confirmed = createEvent(
      OrderConfirmedV1,
      { orderId, amountMinor: 3000, currency: 'EUR' },
      { cause: created },
    );
    await inventory.handled(OrderConfirmedV1.subject, await inventory.publish(confirmed));
    await inventory.relayed();
    expect((await inventory.eventsFor(orderId)).map((e) => e.eventName)).toEqual([
      'inventory.reserved',
      'inventory.released',
    ]);
    expect(await inventory.product('TENT-1')).toMatchObject({
      available: 4,
      reserved: 0,
      committed: 0,
    });
  });

  it('releases each reservation exactly once when two cleaners race', async () => {
    await inventory.putProduct('RACE-1', { stock: 100 }).expect(200);
    const orders = Array.from({ length: 4 * BATCH + 3 }, () =>
      orderCreated([{ sku: 'RACE-1', quantity: 1 }]),
    );
    await reserveAll(orders);
    expect(await inventory.product('RACE-1')).toMatchObject({ available: 77, reserved: 23 });

    // expireDue keeps no state between calls: two at once race like two instances would.
    const [first, second] = await Promise.all([cleaner.expireDue(), cleaner.expireDue()]);
    expect(first + second).toBe(orders.length);

    const released = await releases(orders.map((order) => order.payload.orderId));
    expect(released).toHaveLength(orders.length);
    expect(new Set(released.map((e) => e.payload.reservationId)).size).toBe(orders.length);
    expect(await inventory.product('RACE-1')).toMatchObject({
      available: 100,
      reserved: 0,
      committed: 0,
    });
  }, 60_000);

  it('gives each tenant’s units back to its own product of the SKU', async () => {
    const otherTenant = 'tenant-b';
    const otherMerchant = await merchantOf(otherTenant);
    await inventory.putProduct('TWIN-1', { stock: 5 }).expect(200);
    await inventory.putProduct('TWIN-1', { stock: 8 }, otherMerchant).expect(200);
    const ours = orderCreated([{ sku: 'TWIN-1', quantity: 2 }]);
    const theirs = orderCreated([{ sku: 'TWIN-1', quantity: 6 }], 'EUR', otherTenant);
    await reserveAll([ours, theirs]);
    expect(await inventory.product('TWIN-1')).toMatchObject({ available: 3, reserved: 2 });
    expect(await inventory.product('TWIN-1', otherMerchant)).toMatchObject({
      available: 2,
      reserved: 6,
    });

    expect(await cleaner.expireDue()).toBe(2);

    const released = await releases([ours.payload.orderId, theirs.payload.orderId]);
    expect(Object.fromEntries(released.map((e) => [e.payload.orderId, e.tenantId]))).toEqual({
      [ours.payload.orderId]: TENANT,
      [theirs.payload.orderId]: otherTenant,
    });
    expect(await inventory.product('TWIN-1')).toMatchObject({ available: 5, reserved: 0 });
    expect(await inventory.product('TWIN-1', otherMerchant)).toMatchObject({
      available: 8,
      reserved: 0,
    });
  });
});
