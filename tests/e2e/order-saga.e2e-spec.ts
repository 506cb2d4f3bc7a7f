import {
  createEvent,
  EventEnvelope,
  InventoryReservedV1,
  PaymentPendingV1,
  PaymentPendingV1Payload,
  PaymentSucceededV1,
} from '@lib/contracts';
import { untilSettled } from '../harness/app-probes';
import { DeadLetter } from '@lib/messaging';
import { publishEvent } from '../harness/events';
import { PaymentAnswer } from '../harness/payment-responder';
import { OrderView, SagaSystem } from '../harness/saga-system';
import { readStream } from '../harness/streams';
import { asOperator, bearer } from '../harness/tokens';
import { eventually } from '../harness/wait';

/** Whole journeys through the order and inventory apps; the test answers for payment. */
describe('OrderSaga journeys', () => {
  let system: SagaSystem;
  const answers = new Map<string, PaymentAnswer>();
  // Tests choose the answer per order right after placing it, before the payment request exists.
  const answerFor = (orderId: string) =>
    eventually(() => answers.get(orderId), { timeoutMs: 5000, what: `the answer for ${orderId}` });

  beforeAll(async () => {
    system = await SagaSystem.start({ payment: answerFor });
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  async function place(sku: string, quantity: number, answer: PaymentAnswer): Promise<string> {
    const orderId = await system.placeOrder([{ sku, quantity }]);
    answers.set(orderId, answer);
    return orderId;
  }

  it('reserves, waits in PAYMENT_PENDING, completes on payment and commits the stock', async () => {
    await system.putProduct('HAPPY-1', 10, 1250);
    const orderId = await place('HAPPY-1', 3, 'pending-only');
    const pending = await system.untilSaga(orderId, 'PAYMENT_PENDING');
    expect(pending).toMatchObject({
      totalMinor: 3750,
      lines: [{ sku: 'HAPPY-1', quantity: 3, unitPriceMinor: 1250 }],
    });
    expect(await system.product('HAPPY-1')).toMatchObject({
      available: 7,
      reserved: 3,
      committed: 0,
    });

    await system.responder.answerLater(orderId, 'succeed');
    const done = await system.untilSaga(orderId, 'COMPLETED');
    expect(done.status).toBe('CONFIRMED');
    await eventually(async () => (await system.product('HAPPY-1')).committed === 3);
    expect(await system.product('HAPPY-1')).toMatchObject({
      available: 7,
      reserved: 0,
      committed: 3,
    });
    expect(await system.reservations(orderId)).toMatchObject([{ status: 'COMMITTED' }]);
  });

  it('cancels an order it cannot stock, and never requests a payment', async () => {
    await system.putProduct('SCARCE-1', 1);
    const orderId = await place('SCARCE-1', 2, 'succeed');
    const cancelled = await system.untilSaga(orderId, 'CANCELLED');
    expect(cancelled).toMatchObject({ status: 'CANCELLED', saga: { reason: 'out-of-stock' } });
    expect(await system.events('ORDERS', orderId, 'order.payment-requested.v1')).toEqual([]);
    expect(await system.product('SCARCE-1')).toMatchObject({ available: 1, reserved: 0 });
  });

  it('releases the reservation when the payment is declined', async () => {
    await system.putProduct('DECLINE-1', 5);
    const orderId = await place('DECLINE-1', 2, 'decline');
    const cancelled = await system.untilSaga(orderId, 'CANCELLED');
    expect(cancelled.saga.reason).toBe('payment-failed');
    // payment.pending and payment.failed travel on different consumers: either may come first.
    const states = cancelled.saga.steps.map((s) => s.to);
    expect(states.slice(0, 2)).toEqual(['STARTED', 'STOCK_RESERVED']);
    expect(states.slice(-3)).toEqual(['PAYMENT_FAILED', 'COMPENSATING', 'CANCELLED']);
    expect(await system.product('DECLINE-1')).toMatchObject({
      available: 5,
      reserved: 0,
      committed: 0,
    });
    expect(await system.reservations(orderId)).toMatchObject([
      { status: 'RELEASED', releasedReason: 'cancelled' },
    ]);
  });

  it('lets the customer cancel a pending order, releasing its stock', async () => {
    await system.putProduct('CANCEL-1', 4);
    const orderId = await place('CANCEL-1', 4, 'pending-only');
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    expect(await system.cancelOrder(orderId)).toBe(202);
    const cancelled = await system.untilSaga(orderId, 'CANCELLED');
    expect(cancelled.saga.reason).toBe('customer');
    expect(await system.product('CANCEL-1')).toMatchObject({ available: 4, reserved: 0 });
    expect(await system.cancelOrder(orderId)).toBe(202);
  });

  it('refuses to cancel a completed order', async () => {
    await system.putProduct('DONE-1', 4);
    const orderId = await place('DONE-1', 1, 'succeed');
    await system.untilSaga(orderId, 'COMPLETED');
    expect(await system.cancelOrder(orderId)).toBe(409);
  });

  it("runs a tenant's order in that tenant: the saga's events carry it, and only the tenant sees it", async () => {
    const tenant = 'tenant-e2e';
    const json = { 'content-type': 'application/json' };
    const merchant = await bearer('merchant-e2e', ['merchant'], tenant);
    const product = await fetch(`${system.inventory.url}/inventory/products/TENANT-1`, {
      method: 'PUT',
      headers: { ...json, ...merchant },
      body: JSON.stringify({
        name: 'T',
        priceMinor: 900,
        currency: 'EUR',
        stock: 3,
        lowStockThreshold: 0,
      }),
    });
    expect(product.status).toBe(200);
    const customer = await bearer('customer-e2e', ['customer'], tenant);
    const placed = await fetch(`${system.order.url}/orders`, {
      method: 'POST',
      headers: { ...json, ...customer },
      body: JSON.stringify({ items: [{ sku: 'TENANT-1', quantity: 1 }] }),
    });
    expect(placed.status).toBe(202);
    const { orderId } = (await placed.json()) as { orderId: string };
    answers.set(orderId, 'succeed');
    const read = (headers: Record<string, string>) =>
      fetch(`${system.order.url}/orders/${orderId}`, { headers });
    await eventually(
      async () => ((await (await read(customer)).json()) as OrderView).saga.state === 'COMPLETED',
      { timeoutMs: 20_000, intervalMs: 100, what: `the saga of ${orderId} to complete` },
    );
    // The default tenant's operator and customer, and another customer of the tenant, see nothing.
    for (const outsider of [
      await asOperator(),
      await bearer('customer-e2e', ['customer']),
      await bearer('customer-other', ['customer'], tenant),
    ]) {
      expect((await read(outsider)).status).toBe(404);
    }
    expect((await read(await bearer('operator-e2e', ['operator'], tenant))).status).toBe(200);
    const events = await eventually(async () => {
      const emitted = await system.events('ORDERS', orderId);
      return emitted.some((e) => e.eventName === 'order.confirmed') ? emitted : undefined;
    });
    expect(events.map((e) => [e.eventName, e.tenantId])).toEqual([
      ['order.created', tenant],
      ['order.payment-requested', tenant],
      ['order.confirmed', tenant],
    ]);
    expect(events[1]!.payload).toMatchObject({ orderId, customerId: 'customer-e2e' });
  });

  it('ignores duplicate and out-of-order replies', async () => {
    await system.putProduct('DUP-1', 10);
    const orderId = await place('DUP-1', 2, 'pending-only');
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    const [reserved] = await system.events('INVENTORY', orderId, InventoryReservedV1.subject);
    const [requested] = await system.events('ORDERS', orderId, 'order.payment-requested.v1');
    const [pending] = await system.events('PAYMENTS', orderId, PaymentPendingV1.subject);
    // Stripe-like duplicates: the same success twice (of the intent the saga recorded from
    // payment.pending: any other is refused), and a stale reservation notice re-played.
    const { paymentId, paymentIntentId } = (pending as EventEnvelope<PaymentPendingV1Payload>)
      .payload;
    const paid = createEvent(
      PaymentSucceededV1,
      { orderId, paymentId, paymentIntentId, amountMinor: 2000, currency: 'EUR' },
      { cause: requested! },
    );
    await publishEvent(system.js, paid);
    await publishEvent(system.js, paid, { asCopy: true });
    await publishEvent(system.js, reserved!, { asCopy: true });
    await system.untilSaga(orderId, 'COMPLETED');
    await eventually(async () => (await system.product('DUP-1')).committed === 2);
    const order = await system.getOrder(orderId);
    expect(order.saga.steps.map((s) => s.to)).toEqual([
      'STARTED',
      'STOCK_RESERVED',
      'PAYMENT_PENDING',
      'COMPLETED',
    ]);
    expect(await system.events('ORDERS', orderId, 'order.confirmed.v1')).toHaveLength(1);
    expect(await system.product('DUP-1')).toMatchObject({
      available: 8,
      reserved: 0,
      committed: 2,
    });
  });

  it('ships nothing on a forged payment.succeeded, alerts, and completes on the real one', async () => {
    await system.putProduct('FORGED-1', 10, 10_000);
    const orderId = await place('FORGED-1', 1, 'pending-only');
    const pending = await system.untilSaga(orderId, 'PAYMENT_PENDING');
    const [requested] = await system.events('ORDERS', orderId, 'order.payment-requested.v1');
    // The attack: right subject and order, one cent and an intent nobody created.
    const forged = createEvent(
      PaymentSucceededV1,
      {
        orderId,
        paymentId: crypto.randomUUID(),
        paymentIntentId: 'pi_forged',
        amountMinor: 1,
        currency: 'EUR',
      },
      { cause: requested! },
    );
    const seq = await publishEvent(system.js, forged);
    const letter = await eventually(async () =>
      (await readStream<DeadLetter>(system.jsm, 'DLQ')).find(
        (m) => m.body.stream === 'PAYMENTS' && m.body.sequence === seq,
      ),
    );
    expect(letter.body).toMatchObject({
      deliveries: 1,
      error: 'PermanentEventError: amount: paid 1, requested 10000',
    });
    await untilSettled(system.jsm, 'order', 'payment.succeeded.v1');
    const metrics = await (await fetch(`${system.order.url}/metrics`)).text();
    expect(metrics).toMatch(/^saga_replies_rejected_total\{reason="amount",service="order"\} 1$/m);
    expect((await system.getOrder(orderId)).saga).toEqual(pending.saga);
    expect(await system.product('FORGED-1')).toMatchObject({ reserved: 1, committed: 0 });
    expect(await system.events('ORDERS', orderId, 'order.confirmed.v1')).toEqual([]);

    await system.responder.answerLater(orderId, 'succeed');
    await system.untilSaga(orderId, 'COMPLETED');
    await eventually(async () => (await system.product('FORGED-1')).committed === 1);
  });

  it('completes a saga whose order app crashed mid-way', async () => {
    await system.putProduct('CRASH-1', 10);
    const orderId = await place('CRASH-1', 1, 'pending-only');
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    // The money arrives while the order app is down; it catches up from JetStream after boot.
    await system.crashAndRestartOrder(() => system.responder.answerLater(orderId, 'succeed'));
    await system.untilSaga(orderId, 'COMPLETED');
    await eventually(async () => (await system.product('CRASH-1')).committed === 1);
  }, 60_000);

  it('never oversells: 200 concurrent orders against a stock of 50', async () => {
    await system.putProduct('RUSH-1', 50);
    const orderIds = await Promise.all(
      Array.from({ length: 200 }, () => place('RUSH-1', 1, 'succeed')),
    );
    const finals = await eventually(
      async () => {
        const orders = await Promise.all(orderIds.map((id) => system.getOrder(id)));
        return orders.every((o) => ['COMPLETED', 'CANCELLED', 'FAILED'].includes(o.saga.state))
          ? orders
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every saga to finish' },
    );
    const completed = finals.filter((o) => o.saga.state === 'COMPLETED');
    expect(completed).toHaveLength(50);
    expect(
      finals.filter((o) => o.saga.state === 'CANCELLED' && o.saga.reason === 'out-of-stock'),
    ).toHaveLength(150);
    await eventually(async () => (await system.product('RUSH-1')).committed === 50);
    const product = await system.product('RUSH-1');
    expect(product.available + product.reserved + product.committed).toBe(50);
    expect(product).toMatchObject({ available: 0, reserved: 0, committed: 50 });
  }, 90_000);
});
