import { stripeSdk } from '../../tools/stripe-local/stripe-local.client';
import Stripe from 'stripe';
import { query } from '../harness/database';
import { SagaSystem } from '../harness/saga-system';
import { readStream } from '../harness/streams';
import { asCustomer, asMerchant, asOperator, bearer, OPERATOR } from '../harness/tokens';
import { eventually } from '../harness/wait';

const PAID = '4242424242424242';
const DECLINED = '4000000000000002';

/** The official SDK on stripe-local, to look at intents as the Stripe dashboard would. */
function stripeOf(system: SagaSystem): Stripe {
  return stripeSdk(system.stripeLocal!, 'sk_test_dashboard');
}

async function eventNames(system: SagaSystem, stream: string, orderId: string) {
  return (await system.events(stream, orderId)).map((e) => e.eventName);
}

/** Places an order for one unit and waits until its PaymentIntent waits for the customer. */
async function orderAwaitingPayment(system: SagaSystem, sku: string) {
  const orderId = await system.placeOrder([{ sku, quantity: 1 }]);
  const payment = await system.untilPayment(orderId, 'PENDING');
  await system.untilSaga(orderId, 'PAYMENT_PENDING');
  return { orderId, paymentIntentId: payment.paymentIntentId! };
}

describe('order saga with the payment app and Stripe', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({
      inventory: { RESERVATION_CLEANER_INTERVAL_MS: '200' },
      paymentApp: {
        STRIPE_TIMEOUT_MS: '1000',
        STRIPE_MAX_NETWORK_RETRIES: '1',
        STRIPE_BREAKER_FAILURES: '3',
        STRIPE_BREAKER_OPEN_MS: '500',
        NATS_MAX_DELIVER: '30',
      },
    });
  }, 120_000);

  afterEach(async () => {
    await system.stripe!.reset();
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('completes the order, commits the stock and records the payment when the customer pays with 4242', async () => {
    await system.putProduct('E2E-PAY-1', 5, 1999);
    const { orderId, paymentIntentId } = await orderAwaitingPayment(system, 'E2E-PAY-1');
    const intent = await stripeOf(system).paymentIntents.retrieve(paymentIntentId);
    expect(intent).toMatchObject({
      amount: 1999,
      currency: 'eur',
      metadata: { orderId, sagaId: expect.any(String) },
    });

    await system.stripe!.confirm(paymentIntentId, PAID);

    const order = await system.untilSaga(orderId, 'COMPLETED');
    expect(order.status).toBe('CONFIRMED');
    await system.untilPayment(orderId, 'SUCCEEDED');
    await eventually(async () => (await system.product('E2E-PAY-1')).committed === 1);
    expect(await system.product('E2E-PAY-1')).toMatchObject({
      available: 4,
      reserved: 0,
      committed: 1,
    });
    expect(await eventNames(system, 'PAYMENTS', orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
    ]);
  }, 30_000);

  it('cancels the order, releases the stock and cancels the PaymentIntent when the card is declined', async () => {
    await system.putProduct('E2E-PAY-2', 5);
    const { orderId, paymentIntentId } = await orderAwaitingPayment(system, 'E2E-PAY-2');

    await system.stripe!.confirm(paymentIntentId, DECLINED);

    const order = await system.untilSaga(orderId, 'CANCELLED');
    expect(order.saga.reason).toBe('payment-failed');
    await system.untilPayment(orderId, 'CANCELLED');
    expect((await stripeOf(system).paymentIntents.retrieve(paymentIntentId)).status).toBe(
      'canceled',
    );
    expect(await system.product('E2E-PAY-2')).toMatchObject({ available: 5, reserved: 0 });
    expect(await system.reservations(orderId)).toEqual([
      expect.objectContaining({ status: 'RELEASED' }),
    ]);
    const [, failed] = await system.events('PAYMENTS', orderId);
    expect(failed).toMatchObject({
      eventName: 'payment.failed',
      payload: { code: 'card_declined', declineCode: 'generic_decline' },
    });
    expect(await eventNames(system, 'PAYMENTS', orderId)).toEqual([
      'payment.pending',
      'payment.failed',
      'payment.cancelled',
    ]);
  }, 30_000);

  it('completes once when Stripe duplicates and reorders its webhooks', async () => {
    await system.putProduct('E2E-PAY-3', 5);
    const { orderId, paymentIntentId } = await orderAwaitingPayment(system, 'E2E-PAY-3');
    await system.stripe!.duplicateWebhooks(3);
    await system.stripe!.holdWebhooks();
    // A decline, then another card that pays; Stripe delivers the success first, then the decline.
    await system.stripe!.confirm(paymentIntentId, DECLINED);
    await system.stripe!.confirm(paymentIntentId, PAID);
    await system.stripe!.releaseWebhooks('reverse');

    await system.untilSaga(orderId, 'COMPLETED');
    await eventually(async () => (await system.product('E2E-PAY-3')).committed === 1);
    await system.untilPayment(orderId, 'SUCCEEDED');
    const deliveries = (await system.stripe!.deliveries()).filter((d) => d.outcome === 'delivered');
    expect(deliveries.length).toBeGreaterThanOrEqual(6);
    expect(await eventNames(system, 'PAYMENTS', orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
    ]);
  }, 30_000);

  it("shows a payment to the customer who placed the order and the tenant's operators only, never cached", async () => {
    await system.putProduct('E2E-PAY-7', 5);
    const orderOf = {
      'customer-a': await system.placeOrder([{ sku: 'E2E-PAY-7', quantity: 1 }], 'customer-a'),
      'customer-b': await system.placeOrder([{ sku: 'E2E-PAY-7', quantity: 1 }], 'customer-b'),
    };
    const read = async (orderId: string, token: Record<string, string> = {}) => {
      const res = await fetch(`${system.payment!.url}/payments/${orderId}`, { headers: token });
      expect(res.headers.get('cache-control')).toBe('no-store');
      return { status: res.status, text: await res.text() };
    };
    for (const [customer, orderId] of Object.entries(orderOf)) {
      const { clientSecret } = await system.untilPayment(orderId, 'PENDING');
      expect(clientSecret).toMatch(/_secret_/);
      const own = await read(orderId, await asCustomer(customer));
      expect(own.status).toBe(200);
      expect(JSON.parse(own.text)).toMatchObject({ orderId, clientSecret });
      const other = customer === 'customer-a' ? 'customer-b' : 'customer-a';
      for (const stranger of [
        await asCustomer(other),
        await bearer(customer, ['customer'], 'tenant-2'),
        await bearer(OPERATOR.sub, OPERATOR.roles, 'tenant-2'),
      ]) {
        const hidden = await read(orderId, stranger);
        expect(hidden.status).toBe(404);
        expect(JSON.parse(hidden.text)).toMatchObject({ code: 'PAYMENT.NOT_FOUND' });
        expect(hidden.text).not.toContain(clientSecret!);
      }
      expect((await read(orderId, await asOperator())).status).toBe(200);
      expect((await read(orderId)).status).toBe(401);
      expect((await read(orderId, await asMerchant())).status).toBe(403);
    }
  }, 30_000);

  it('answers 400 to webhooks with a bad signature and lets the saga go on', async () => {
    await system.putProduct('E2E-PAY-4', 5);
    const { orderId, paymentIntentId } = await orderAwaitingPayment(system, 'E2E-PAY-4');
    const forged = JSON.stringify({
      id: 'evt_forged',
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: paymentIntentId, object: 'payment_intent', metadata: { orderId } } },
    });
    for (const signature of [
      Stripe.webhooks.generateTestHeaderString({ payload: forged, secret: 'whsec_guess' }),
      't=1700000000,v1=deadbeef',
      undefined,
    ]) {
      const res = await fetch(`${system.payment!.url}/webhooks/stripe`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(signature ? { 'stripe-signature': signature } : {}),
        },
        body: forged,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ statusCode: 400, code: 'WEBHOOK.INVALID' });
    }
    expect((await system.getOrder(orderId)).saga.state).toBe('PAYMENT_PENDING');
    expect(await query(`SELECT 1 FROM payments.stripe_events WHERE id = 'evt_forged'`)).toEqual([]);

    await system.stripe!.confirm(paymentIntentId, PAID);
    await system.untilSaga(orderId, 'COMPLETED');
  }, 30_000);

  it('refunds the payment when the reservation expired just before the money moved', async () => {
    await system.putProduct('E2E-PAY-5', 5);
    const { orderId, paymentIntentId } = await orderAwaitingPayment(system, 'E2E-PAY-5');
    await system.stripe!.holdWebhooks();
    await system.stripe!.confirm(paymentIntentId, PAID);
    // The customer paid, but the reservation ran out before Stripe's webhook reached us.
    await query(
      `UPDATE inventory.reservations SET expires_at = now() - interval '1 second' WHERE order_id = $1`,
      [orderId],
    );

    const order = await system.untilSaga(orderId, 'CANCELLED');
    expect(order.saga.reason).toBe('reservation-expired');
    await system.untilPayment(orderId, 'REFUNDED');
    await system.stripe!.releaseWebhooks();
    const refunds = (await system.stripe!.requests()).filter(
      (r) => r.method === 'POST' && r.path === '/v1/refunds' && r.status === 200,
    );
    expect(refunds).toHaveLength(1);
    expect(await system.product('E2E-PAY-5')).toMatchObject({ available: 5, reserved: 0 });
    expect(await eventNames(system, 'PAYMENTS', orderId)).toEqual([
      'payment.pending',
      'payment.refunded',
    ]);
    expect((await system.getOrder(orderId)).saga.state).toBe('CANCELLED');
  }, 30_000);

  it('waits while Stripe is down and recovers without a lost or double payment', async () => {
    await system.putProduct('E2E-PAY-6', 5);
    await system.stripe!.failNext('api_error');
    const orderId = await system.placeOrder([{ sku: 'E2E-PAY-6', quantity: 1 }]);
    // Every delivery fails (the SDK's own retries included) until the circuit opens.
    await eventually(
      async () =>
        /stripe_circuit_state\{[^}]*\} 2/.test(
          await (await fetch(`${system.payment!.url}/metrics`)).text(),
        ),
      { what: 'the Stripe circuit to open' },
    );
    expect((await system.getOrder(orderId)).saga.state).toBe('STOCK_RESERVED');
    expect(
      (await system.stripe!.requests()).filter((r) => r.path === '/v1/payment_intents').length,
    ).toBeGreaterThanOrEqual(3);

    await system.stripe!.clearFaults();
    const { paymentIntentId } = await system.untilPayment(orderId, 'PENDING');
    await system.stripe!.confirm(paymentIntentId!, PAID);
    await system.untilSaga(orderId, 'COMPLETED');

    const created = (await system.stripe!.requests()).filter(
      (r) => r.path === '/v1/payment_intents' && r.status === 200 && !r.replayed,
    );
    expect(created).toHaveLength(1);
    expect(await eventNames(system, 'PAYMENTS', orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
    ]);
  }, 60_000);
});

describe('order saga with the payment app when the customer never pays', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({
      order: { SAGA_PAYMENT_TIMEOUT_MS: '3000', SAGA_DEADLINE_SCAN_MS: '100' },
      paymentApp: {},
    });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('cancels the PaymentIntent and the order once the payment deadline passes', async () => {
    await system.putProduct('E2E-LATE-1', 3);
    const orderId = await system.placeOrder([{ sku: 'E2E-LATE-1', quantity: 1 }]);

    const order = await system.untilSaga(orderId, 'CANCELLED');
    expect(order.saga.reason).toBe('payment-timeout');
    const { paymentIntentId } = await system.untilPayment(orderId, 'CANCELLED');
    expect(paymentIntentId).toMatch(/^pi_/);
    expect((await stripeOf(system).paymentIntents.retrieve(paymentIntentId!)).status).toBe(
      'canceled',
    );
    expect(await system.product('E2E-LATE-1')).toMatchObject({ available: 3, reserved: 0 });
    // Paying now is too late: Stripe refuses to confirm a cancelled intent.
    await expect(system.stripe!.confirm(paymentIntentId!, PAID)).rejects.toThrow();
    expect(await eventNames(system, 'PAYMENTS', orderId)).toEqual([
      'payment.pending',
      'payment.cancelled',
    ]);
  }, 30_000);
});

describe('order saga with the payment app through faults', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({
      paymentApp: {
        STRIPE_TIMEOUT_MS: '500',
        STRIPE_MAX_NETWORK_RETRIES: '0',
        STRIPE_BREAKER_FAILURES: '2',
        STRIPE_BREAKER_OPEN_MS: '300',
        // A delivery budget a few seconds of outage would exhaust, were deliveries spent on it.
        NATS_MAX_DELIVER: '2',
        NATS_ACK_WAIT_MS: '1000',
      },
    });
  }, 120_000);

  afterEach(async () => {
    await system.stripe!.reset();
  });

  afterAll(async () => {
    await system?.stop();
  });

  const deadLetters = () => readStream(system.jsm, 'DLQ');

  it('completes the orders placed while Stripe was down once it is back: no dead letter, no cancellation', async () => {
    await system.putProduct('E2E-OUTAGE-1', 10);
    await system.stripe!.failNext('api_error');
    const orderIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      orderIds.push(await system.placeOrder([{ sku: 'E2E-OUTAGE-1', quantity: 1 }]));
    }
    // Probed every 300 ms while down: past two ack waits, long enough for a message not held to
    // come back and spend its last delivery.
    await eventually(
      async () =>
        (await system.stripe!.requests()).filter((r) => r.path === '/v1/balance').length >= 8,
      { what: 'Stripe probed while it is down' },
    );
    for (const orderId of orderIds) {
      expect((await system.getOrder(orderId)).saga.state).toBe('STOCK_RESERVED');
    }

    await system.stripe!.clearFaults();
    for (const orderId of orderIds) {
      const { paymentIntentId } = await system.untilPayment(orderId, 'PENDING');
      await system.stripe!.confirm(paymentIntentId!, PAID);
    }
    for (const orderId of orderIds) await system.untilSaga(orderId, 'COMPLETED');
    await eventually(async () => (await system.product('E2E-OUTAGE-1')).committed === 4);
    expect(await system.product('E2E-OUTAGE-1')).toMatchObject({ available: 6, reserved: 0 });
    expect(await deadLetters()).toEqual([]);
    const created = (await system.stripe!.requests()).filter(
      (r) => r.path === '/v1/payment_intents' && r.status === 200 && !r.replayed,
    );
    expect(created).toHaveLength(4);
  }, 60_000);

  it('refunds a payment made after its order was cancelled, once, when the cancel never reached payment', async () => {
    await system.putProduct('E2E-LOST-1', 5);
    const { orderId, paymentIntentId } = await orderAwaitingPayment(system, 'E2E-LOST-1');
    await system.restartPayment(async () => {
      expect(await system.cancelOrder(orderId)).toBe(202);
      await system.untilSaga(orderId, 'CANCELLED');
      // Lost on its way to payment: gone from the stream before payment could read it.
      const [cancel] = (await readStream(system.jsm, 'ORDERS', 'order.cancelled.v1')).filter(
        (m) => (m.body.payload as { orderId: string }).orderId === orderId,
      );
      await system.jsm.streams.deleteMessage('ORDERS', cancel!.seq);
    });
    // Payment never heard of the cancel: the intent is still open, and the customer pays it.
    expect((await system.untilPayment(orderId, 'PENDING')).paymentIntentId).toBe(paymentIntentId);
    await system.stripe!.confirm(paymentIntentId, PAID);

    // The saga hears of the money and sends the compensation again; payment refunds.
    await system.untilPayment(orderId, 'REFUNDED');
    const order = await system.getOrder(orderId);
    expect(order).toMatchObject({ status: 'CANCELLED', saga: { state: 'CANCELLED' } });
    expect(order.saga.steps.at(-1)).toMatchObject({
      from: 'CANCELLED',
      to: 'CANCELLED',
      trigger: 'payment.succeeded.v1',
    });
    const refunds = (await system.stripe!.requests()).filter((r) => r.path === '/v1/refunds');
    expect(new Set(refunds.map((r) => r.idempotencyKey))).toEqual(
      new Set([`pay:refund:${order.saga.sagaId}`]),
    );
    expect(refunds.filter((r) => r.status === 200 && !r.replayed)).toHaveLength(1);
    expect(await eventNames(system, 'PAYMENTS', orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
      'payment.refunded',
    ]);
    expect(await system.product('E2E-LOST-1')).toMatchObject({ available: 5, reserved: 0 });
    expect(await deadLetters()).toEqual([]);
  }, 60_000);
});
