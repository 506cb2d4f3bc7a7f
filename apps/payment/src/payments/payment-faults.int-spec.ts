import {
  createEvent,
  EventEnvelope,
  OrderCancelledV1,
  OrderPaymentRequestedV1,
  OrderPaymentRequestedV1Payload,
} from '@lib/contracts';
import { query } from '../../../../tests/harness/database';
import { eventually, sleep } from '../../../../tests/harness/wait';
import { stripeSdk } from '../../../../tools/stripe-local/stripe-local.client';
import { paymentRequested, PaymentTestApp, startPaymentTestApp } from '../../test/payment-test-app';

const SCHEMA = 'payments_faults_test';
const MAX_DELIVER = 2;
const ACK_WAIT_MS = 1000;
const PAID = '4242424242424242';
const CANCEL_PATH = '/v1/payment_intents/*/cancel';

/**
 * Money safety through faults: Stripe down (the circuit opens at its first outage), a cancel Stripe
 * keeps refusing, a payment made after its order was cancelled, a compensation that never finished.
 * Every delivery budget here is small (two deliveries, one-second ack wait): a message that spent
 * its deliveries on an outage would be dead-lettered within the test.
 */
describe('payment through faults', () => {
  let payment: PaymentTestApp;

  beforeAll(async () => {
    payment = await startPaymentTestApp(SCHEMA, {
      STRIPE_TIMEOUT_MS: '500',
      STRIPE_MAX_NETWORK_RETRIES: '0',
      STRIPE_BREAKER_FAILURES: '1',
      STRIPE_BREAKER_OPEN_MS: '300',
      NATS_MAX_DELIVER: String(MAX_DELIVER),
      NATS_ACK_WAIT_MS: String(ACK_WAIT_MS),
      // Long enough for a compensation under test to finish before a pass takes it over.
      PAYMENT_RECONCILE_INTERVAL_MS: '3000',
    });
  }, 60_000);

  afterEach(async () => {
    await payment.stripe.reset();
  });

  afterAll(async () => {
    await payment?.close();
  });

  const cancelled = (request: EventEnvelope<OrderPaymentRequestedV1Payload>) =>
    createEvent(
      OrderCancelledV1,
      { orderId: request.payload.orderId, reason: 'payment-timeout' },
      { cause: request },
    );

  const dashboard = () => stripeSdk(payment.stripeLocal, 'sk_test_dashboard');

  async function requestPayment(request = paymentRequested()) {
    await payment.publish(request);
    const view = await payment.untilStatus(request.payload.orderId, 'PENDING');
    return { request, paymentIntentId: view.paymentIntentId! };
  }

  async function eventNames(orderId: string): Promise<string[]> {
    await payment.relayed();
    return (await payment.eventsFor(orderId)).map((e) => e.eventName);
  }

  /** Every delivery the consumer of `subject` has made so far, redeliveries included. */
  async function deliveries(subject: string): Promise<number> {
    return (await payment.consumer(subject)).delivered.consumer_seq;
  }

  const metric = async (pattern: RegExp) => pattern.test(await payment.metrics());

  it('holds requests and cancels while Stripe is down, spending no delivery, and handles them once a probe answers', async () => {
    const toCancel = await Promise.all([requestPayment(), requestPayment()]);
    const requestsBefore = await deliveries(OrderPaymentRequestedV1.subject);
    const cancelsBefore = await deliveries(OrderCancelledV1.subject);

    await payment.stripe.failNext('api_error');
    const requests = Array.from({ length: 5 }, () => paymentRequested());
    for (const request of requests) await payment.publish(request);
    for (const { request } of toCancel) await payment.publish(cancelled(request));
    await eventually(() => metric(/events_held\{[^}]*\} 7/), { what: 'every message held' });
    expect(await payment.metrics()).toMatch(/consumers_paused\{[^}]*\} 3/);
    // Past two ack waits, while probes keep failing: nothing comes back, nothing is dead-lettered.
    await eventually(
      async () =>
        (await payment.stripe.requests()).filter((r) => r.path === '/v1/balance').length >= 3,
      { what: 'Stripe probed while down' },
    );
    await sleep(ACK_WAIT_MS * 2 + 500);

    await payment.stripe.clearFaults();
    for (const request of requests) await payment.untilStatus(request.payload.orderId, 'PENDING');
    for (const { request } of toCancel) {
      await payment.untilStatus(request.payload.orderId, 'CANCELLED');
    }
    expect(await deliveries(OrderPaymentRequestedV1.subject)).toBe(requestsBefore + 5);
    expect(await deliveries(OrderCancelledV1.subject)).toBe(cancelsBefore + 2);
    expect(await payment.deadLetters()).toEqual([]);
    expect(await payment.metrics()).toMatch(/consumers_paused\{[^}]*\} 0/);
    // Each request reached Stripe once it was back, under its saga's key: one intent each.
    const created = (await payment.stripe.requests()).filter(
      (r) => r.path === '/v1/payment_intents' && r.status === 200,
    );
    const keys = requests.map((r) => `pay:create:${r.sagaId}`);
    expect(
      created
        .map((r) => r.idempotencyKey!)
        .filter((key) => keys.includes(key))
        .sort(),
    ).toEqual(keys.sort());
  }, 60_000);

  it('retries a cancel Stripe keeps refusing past its deliveries, never dead-letters it, and says so', async () => {
    const { request, paymentIntentId } = await requestPayment();
    // Rate limited: Stripe is up (the circuit stays closed), the cancel just fails for a while.
    await payment.stripe.failNext('rate_limit', MAX_DELIVER + 2, CANCEL_PATH);
    await payment.publish(cancelled(request));
    await eventually(
      () => metric(/compensations_pending\{[^}]*consumer="payment__order_cancelled_v1"[^}]*\} 1/),
      { what: 'the compensation reported pending' },
    );
    await payment.untilStatus(request.payload.orderId, 'CANCELLED');
    expect((await dashboard().paymentIntents.retrieve(paymentIntentId)).status).toBe('canceled');
    const cancels = (await payment.stripe.requests()).filter((r) => r.path.endsWith('/cancel'));
    expect(cancels.map((r) => r.status)).toEqual([429, 429, 429, 429, 200]);
    expect(new Set(cancels.map((r) => r.idempotencyKey))).toEqual(
      new Set([`pay:cancel:${request.sagaId}`]),
    );
    await eventually(
      () => metric(/compensations_pending\{[^}]*consumer="payment__order_cancelled_v1"[^}]*\} 0/),
      { what: 'the compensation no longer pending' },
    );
    await payment.settled(OrderCancelledV1.subject);
    expect(await payment.deadLetters()).toEqual([]);
  }, 30_000);

  it('refunds on its own a payment that succeeds while its cancel keeps failing, once', async () => {
    const { request, paymentIntentId } = await requestPayment();
    const { orderId } = request.payload;
    await payment.stripe.failNext('rate_limit', undefined, CANCEL_PATH);
    await payment.publish(cancelled(request));
    await eventually(
      async () =>
        (
          await query(
            `SELECT 1 FROM "${SCHEMA}".payments WHERE order_id = $1 AND order_cancelled_at IS NOT NULL`,
            [orderId],
          )
        ).length === 1,
      { what: 'the cancellation recorded' },
    );
    // The customer pays the intent the cancel has not reached yet: no saga is here to say a word.
    await payment.stripe.confirm(paymentIntentId, PAID);
    await payment.untilStatus(orderId, 'REFUNDED');
    // The webhook's refund, and any the pass or the cancel's retry raced it with, carry the same
    // key: Stripe refunds once and answers the others with its first answer.
    const refunds = (await payment.stripe.requests()).filter((r) => r.path === '/v1/refunds');
    expect(new Set(refunds.map((r) => r.idempotencyKey))).toEqual(
      new Set([`pay:refund:${request.sagaId}`]),
    );
    expect(refunds.filter((r) => r.status === 200 && !r.replayed)).toHaveLength(1);
    expect(await payment.metrics()).toMatch(
      /payment_reconciliation_fixes_total\{[^}]*action="refunded"[^}]*\} [1-9]/,
    );

    // The cancel, once Stripe takes it again, finds the money back and does nothing more.
    await payment.stripe.clearFaults();
    await payment.settled(OrderCancelledV1.subject);
    expect(
      (await payment.stripe.requests()).filter(
        (r) => r.path === '/v1/refunds' && r.status === 200 && !r.replayed,
      ),
    ).toHaveLength(1);
    expect(await eventNames(orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
      'payment.refunded',
    ]);
    expect(await payment.deadLetters()).toEqual([]);
  }, 30_000);

  it('cancels the open intent of a cancelled order whose compensation never finished', async () => {
    const { request, paymentIntentId } = await requestPayment();
    const { orderId } = request.payload;
    // What a compensation lost after it recorded the cancellation leaves behind.
    await query(
      `UPDATE "${SCHEMA}".payments SET order_cancelled_at = now() - interval '1 hour' WHERE order_id = $1`,
      [orderId],
    );
    await payment.untilStatus(orderId, 'CANCELLED');
    expect((await dashboard().paymentIntents.retrieve(paymentIntentId)).status).toBe('canceled');
    const cancels = (await payment.stripe.requests()).filter((r) => r.path.endsWith('/cancel'));
    expect(cancels.map((r) => r.idempotencyKey)).toEqual([`pay:cancel:${request.sagaId}`]);
    expect(await eventNames(orderId)).toEqual(['payment.pending', 'payment.cancelled']);
    expect(await payment.metrics()).toMatch(
      /payment_reconciliation_fixes_total\{[^}]*action="cancelled"[^}]*\} [1-9]/,
    );
  }, 30_000);

  it('ends a payment left in CREATING as CANCELLED when its order is cancelled and Stripe made no intent', async () => {
    // Stripe down when the request comes: the row is CREATING, the request held.
    await payment.stripe.failNext('api_error');
    const request = paymentRequested(0);
    const { orderId } = request.payload;
    await payment.publish(request);
    await eventually(
      async () =>
        (
          await query(
            `SELECT 1 FROM "${SCHEMA}".payments WHERE order_id = $1 AND status = 'CREATING'`,
            [orderId],
          )
        ).length === 1,
      { what: 'the payment in CREATING' },
    );
    await payment.publish(cancelled(request));
    await payment.stripe.clearFaults();
    // Stripe refuses an intent of 0: there is none to cancel, whichever of the two runs first.
    const view = await payment.untilStatus(orderId, 'CANCELLED');
    expect(view.paymentIntentId).toBeNull();
    await payment.settled(OrderCancelledV1.subject);
    await payment.settled(OrderPaymentRequestedV1.subject);
    expect(await payment.deadLetters()).toEqual([]);
  }, 30_000);
});
