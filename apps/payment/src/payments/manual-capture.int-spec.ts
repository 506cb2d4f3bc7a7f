import { createEvent, OrderCancelledV1, OrderConfirmedV1 } from '@lib/contracts';
import { eventually } from '../../../../tests/harness/wait';
import { paymentRequested, PaymentTestApp, startPaymentTestApp } from '../../test/payment-test-app';

const SCHEMA = 'payments_manual_capture_test';

describe('payment with STRIPE_CAPTURE_METHOD=manual', () => {
  let payment: PaymentTestApp;

  beforeAll(async () => {
    payment = await startPaymentTestApp(SCHEMA, { STRIPE_CAPTURE_METHOD: 'manual' });
  }, 60_000);

  afterAll(async () => {
    await payment?.close();
  });

  async function authorized() {
    const request = paymentRequested(2500);
    await payment.publish(request);
    const view = await payment.untilStatus(request.payload.orderId, 'PENDING');
    await payment.stripe.confirm(view.paymentIntentId!, '4242424242424242');
    await payment.untilStatus(request.payload.orderId, 'AUTHORIZED');
    return { request, view };
  }

  async function eventNames(orderId: string): Promise<string[]> {
    await payment.relayed();
    return (await payment.eventsFor(orderId)).map((e) => e.eventName);
  }

  it('announces the authorization as payment.succeeded and captures on order.confirmed', async () => {
    const { request, view } = await authorized();
    expect(await eventNames(view.orderId)).toEqual(['payment.pending', 'payment.succeeded']);
    await payment.publish(
      createEvent(
        OrderConfirmedV1,
        { orderId: view.orderId, amountMinor: 2500, currency: 'EUR' },
        { cause: request },
      ),
    );
    await payment.untilStatus(view.orderId, 'SUCCEEDED');
    const capture = (await payment.stripe.requests()).find(
      (r) => r.path === `/v1/payment_intents/${view.paymentIntentId}/capture`,
    );
    expect(capture).toMatchObject({ status: 200, idempotencyKey: `pay:capture:${request.sagaId}` });
    // The capture's payment_intent.succeeded webhook announces nothing more.
    await eventually(async () =>
      (await payment.stripe.deliveries()).some(
        (d) => d.type === 'payment_intent.succeeded' && d.outcome === 'delivered',
      ),
    );
    expect(await eventNames(view.orderId)).toEqual(['payment.pending', 'payment.succeeded']);
  });

  it('cancels the authorization as the compensation', async () => {
    const { request, view } = await authorized();
    await payment.publish(
      createEvent(
        OrderCancelledV1,
        { orderId: view.orderId, reason: 'customer' },
        { cause: request },
      ),
    );
    await payment.untilStatus(view.orderId, 'CANCELLED');
    expect(await eventNames(view.orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
      'payment.cancelled',
    ]);
    expect((await payment.stripe.requests()).some((r) => r.path === '/v1/refunds')).toBe(false);
  });
});
