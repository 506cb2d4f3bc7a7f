import { stripeSdk } from '../../../../tools/stripe-local/stripe-local.client';
import { randomUUID } from 'node:crypto';
import {
  createEvent,
  EventEnvelope,
  OrderCancelledV1,
  OrderPaymentRequestedV1,
  OrderPaymentRequestedV1Payload,
  subjectFor,
} from '@lib/contracts';
import { query } from '../../../../tests/harness/database';
import { eventually } from '../../../../tests/harness/wait';
import { Inbox, messagingMetrics } from '@lib/messaging';
import type { Response } from 'supertest';
import { asOperator, bearer, OPERATOR } from '../../../../tests/harness/tokens';
import { metricValue } from '../../../../tests/harness/metrics';
import {
  asTenantOperator,
  CUSTOMER,
  paymentRequested,
  PaymentTestApp,
  startPaymentTestApp,
  TENANT,
} from '../../test/payment-test-app';

const SCHEMA = 'payments_consumer_test';

describe('payment consumers', () => {
  let payment: PaymentTestApp;

  beforeAll(async () => {
    // A short SDK timeout and no SDK retries, so an injected outage reaches the consumer at once.
    payment = await startPaymentTestApp(SCHEMA, {
      STRIPE_TIMEOUT_MS: '500',
      STRIPE_MAX_NETWORK_RETRIES: '0',
      STRIPE_BREAKER_FAILURES: '3',
      STRIPE_BREAKER_OPEN_MS: '300',
      NATS_MAX_DELIVER: '20',
    });
  }, 60_000);

  afterEach(async () => {
    await payment.stripe.reset();
  });

  afterAll(async () => {
    await payment?.close();
  });

  const cancelled = (request: EventEnvelope<OrderPaymentRequestedV1Payload>, reason = 'customer') =>
    createEvent(OrderCancelledV1, { orderId: request.payload.orderId, reason }, { cause: request });

  /** The official SDK as another client of the same account (the dashboard, a support agent). */
  const dashboard = () => stripeSdk(payment.stripeLocal, 'sk_test_someone_else');

  /** Publishes the request and waits for payment.pending. */
  async function requestPayment(request = paymentRequested()) {
    await payment.publish(request);
    const view = await payment.untilStatus(request.payload.orderId, 'PENDING');
    return { request, view };
  }

  async function eventNames(orderId: string): Promise<string[]> {
    await payment.relayed();
    return (await payment.eventsFor(orderId)).map((e) => e.eventName);
  }

  it('creates a PaymentIntent, records it PENDING and publishes payment.pending without the client secret', async () => {
    const { request, view } = await requestPayment(paymentRequested(4200, 'EUR'));
    const { orderId } = request.payload;
    expect(view).toMatchObject({
      orderId,
      status: 'PENDING',
      amountMinor: 4200,
      currency: 'EUR',
      paymentIntentId: expect.stringMatching(/^pi_/),
      clientSecret: expect.stringMatching(/^pi_.+_secret_/),
      failure: null,
    });
    await payment.relayed();
    const [pending, ...more] = await payment.eventsFor(orderId);
    expect(more).toEqual([]);
    expect(pending).toMatchObject({
      eventName: 'payment.pending',
      correlationId: request.correlationId,
      causationId: request.eventId,
      sagaId: request.sagaId,
      tenantId: TENANT,
      payload: {
        orderId,
        paymentId: view.paymentId,
        paymentIntentId: view.paymentIntentId,
        amountMinor: 4200,
        currency: 'EUR',
      },
    });
    expect(JSON.stringify(pending)).not.toContain(view.clientSecret);
    const [create] = (await payment.stripe.requests()).filter(
      (r) => r.path === '/v1/payment_intents',
    );
    expect(create).toMatchObject({
      method: 'POST',
      idempotencyKey: `pay:create:${request.sagaId}`,
    });
  });

  it('applies a redelivered request once: one intent, one payment.pending', async () => {
    const request = paymentRequested();
    await payment.publish(request, { asCopy: true });
    await payment.handled(
      OrderPaymentRequestedV1.subject,
      await payment.publish(request, { asCopy: true }),
    );
    await payment.untilStatus(request.payload.orderId, 'PENDING');
    expect(await eventNames(request.payload.orderId)).toEqual(['payment.pending']);
    const intents = (await payment.stripe.requests()).filter(
      (r) => r.path === '/v1/payment_intents' && r.status === 200 && !r.replayed,
    );
    expect(intents).toHaveLength(1);
  });

  it('names the order as the lock key of each commit, so batches lock payments in one order (Inbox.handleOnce)', async () => {
    const handleOnce = jest.spyOn(payment.app.get(Inbox), 'handleOnce');
    try {
      const { request } = await requestPayment();
      await payment.handled(OrderCancelledV1.subject, await payment.publish(cancelled(request)));
      const keys = handleOnce.mock.calls
        .filter(([, event]) => event.correlationId === request.correlationId)
        .map(([, event, , lockKey]) => [event.eventName, lockKey]);
      expect(keys).toEqual([
        [OrderPaymentRequestedV1.eventName, request.payload.orderId],
        [OrderCancelledV1.eventName, request.payload.orderId],
      ]);
    } finally {
      handleOnce.mockRestore();
    }
  });

  it("publishes payment.failed with Stripe's message when Stripe refuses to create the intent", async () => {
    const request = paymentRequested(0);
    await payment.publish(request);
    const view = await payment.untilStatus(request.payload.orderId, 'FAILED');
    expect(view.failure).toMatchObject({ code: expect.any(String) });
    await payment.relayed();
    const [failed, ...more] = await payment.eventsFor(request.payload.orderId);
    expect(more).toEqual([]);
    expect(failed).toMatchObject({
      eventName: 'payment.failed',
      payload: { orderId: request.payload.orderId, reason: view.failure!.reason },
    });
  });

  it('cancels a pending intent on order.cancelled and announces it once', async () => {
    const { request, view } = await requestPayment();
    await payment.publish(cancelled(request, 'payment-timeout'));
    const after = await payment.untilStatus(request.payload.orderId, 'CANCELLED');
    expect(after.clientSecret).toBeNull();
    // Stripe's payment_intent.canceled webhook arrives too: it must not announce it again.
    await eventually(async () =>
      (await payment.stripe.deliveries()).some(
        (d) => d.type === 'payment_intent.canceled' && d.outcome === 'delivered',
      ),
    );
    expect(await eventNames(request.payload.orderId)).toEqual([
      'payment.pending',
      'payment.cancelled',
    ]);
    const cancel = (await payment.stripe.requests()).find(
      (r) => r.path === `/v1/payment_intents/${view.paymentIntentId}/cancel`,
    );
    expect(cancel).toMatchObject({ status: 200, idempotencyKey: `pay:cancel:${request.sagaId}` });
  });

  it('refunds a payment that succeeded on order.cancelled, once', async () => {
    const { request, view } = await requestPayment();
    await payment.stripe.confirm(view.paymentIntentId!, '4242424242424242');
    await payment.untilStatus(request.payload.orderId, 'SUCCEEDED');
    await payment.publish(cancelled(request, 'reservation-expired'));
    await payment.untilStatus(request.payload.orderId, 'REFUNDED');
    // Another cancel, as a replay would deliver it, finds nothing left to undo.
    await payment.handled(
      OrderCancelledV1.subject,
      await payment.publish(cancelled(request, 'reservation-expired')),
    );
    await eventually(async () =>
      (await payment.stripe.deliveries()).some((d) => d.type === 'charge.refunded'),
    );
    expect(await eventNames(request.payload.orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
      'payment.refunded',
    ]);
    const refunds = (await payment.stripe.requests()).filter((r) => r.path === '/v1/refunds');
    expect(refunds.map((r) => r.idempotencyKey)).toEqual([`pay:refund:${request.sagaId}`]);
  });

  it('counts "already refunded" as a refund', async () => {
    const { request, view } = await requestPayment();
    await payment.stripe.confirm(view.paymentIntentId!, '4242424242424242');
    await payment.untilStatus(request.payload.orderId, 'SUCCEEDED');
    // Refunded behind the app's back (the dashboard, a crash before the commit), webhook not yet in.
    await payment.stripe.holdWebhooks();
    await dashboard().refunds.create({ payment_intent: view.paymentIntentId! });
    await payment.publish(cancelled(request));
    await payment.untilStatus(request.payload.orderId, 'REFUNDED');
    const refunds = (await payment.stripe.requests()).filter((r) => r.path === '/v1/refunds');
    expect(refunds.map((r) => r.status)).toEqual([200, 400]);
    expect(await eventNames(request.payload.orderId)).toEqual([
      'payment.pending',
      'payment.succeeded',
      'payment.refunded',
    ]);
  });

  it('counts "already cancelled" as a cancellation', async () => {
    const { request, view } = await requestPayment();
    await payment.stripe.holdWebhooks();
    await dashboard().paymentIntents.cancel(view.paymentIntentId!);
    await payment.publish(cancelled(request));
    await payment.untilStatus(request.payload.orderId, 'CANCELLED');
    expect(await eventNames(request.payload.orderId)).toEqual([
      'payment.pending',
      'payment.cancelled',
    ]);
  });

  it('refunds when the money moved after the order was cancelled but before its webhook', async () => {
    const { request, view } = await requestPayment();
    await payment.stripe.holdWebhooks();
    await payment.stripe.confirm(view.paymentIntentId!, '4242424242424242');
    // Stripe has the money; the app still thinks PENDING, so its cancel meets an unexpected state.
    await payment.publish(cancelled(request, 'reservation-expired'));
    await payment.untilStatus(request.payload.orderId, 'REFUNDED');
    await payment.stripe.releaseWebhooks();
    await eventually(async () => (await payment.stripe.heldWebhooks()).length === 0);
    expect(await eventNames(request.payload.orderId)).toEqual([
      'payment.pending',
      'payment.refunded',
    ]);
    expect((await payment.payment(request.payload.orderId)).status).toBe('REFUNDED');
  });

  it('leaves a tombstone when the cancel comes first, so the late request creates no intent', async () => {
    const request = paymentRequested();
    await payment.handled(OrderCancelledV1.subject, await payment.publish(cancelled(request)));
    await payment.handled(OrderPaymentRequestedV1.subject, await payment.publish(request));
    expect(await payment.payment(request.payload.orderId)).toMatchObject({
      status: 'CANCELLED',
      paymentIntentId: null,
    });
    expect(await eventNames(request.payload.orderId)).toEqual([]);
    expect(
      (await payment.stripe.requests()).filter((r) => r.path === '/v1/payment_intents'),
    ).toEqual([]);
  });

  it('cancels the intent of a request that is still being created', async () => {
    // The create call hangs until the SDK times out; the cancel comes in meanwhile.
    await payment.stripe.failNext('timeout', 1);
    const request = paymentRequested();
    const requestSeq = await payment.publish(request);
    await eventually(async () =>
      (await payment.stripe.requests()).some(
        (r) => r.path === '/v1/payment_intents' && r.status === null,
      ),
    );
    await payment.publish(cancelled(request));
    const view = await payment.untilStatus(request.payload.orderId, 'CANCELLED');
    // The request's retry then finds the payment cancelled and creates nothing.
    await payment.handled(OrderPaymentRequestedV1.subject, requestSeq);
    const creates = (await payment.stripe.requests()).filter(
      (r) => r.path === '/v1/payment_intents' && r.status === 200,
    );
    // One intent: the compensation found it with the create key, and it is cancelled.
    expect(new Set(creates.map((r) => r.idempotencyKey))).toEqual(
      new Set([`pay:create:${request.sagaId}`]),
    );
    expect((await dashboard().paymentIntents.retrieve(view.paymentIntentId!)).status).toBe(
      'canceled',
    );
    expect(await eventNames(request.payload.orderId)).toEqual(['payment.cancelled']);
  });

  it('retries while Stripe answers 500, then creates exactly one intent', async () => {
    await payment.stripe.failNext('api_error', 2);
    const { request } = await requestPayment();
    const creates = (await payment.stripe.requests()).filter(
      (r) => r.path === '/v1/payment_intents',
    );
    expect(creates.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(creates.map((r) => r.idempotencyKey))).toEqual(
      new Set([`pay:create:${request.sagaId}`]),
    );
    expect(await eventNames(request.payload.orderId)).toEqual(['payment.pending']);
  });

  it('retries a call that times out; the idempotency key returns the intent Stripe made', async () => {
    await payment.stripe.failNext('timeout', 1);
    const { request, view } = await requestPayment();
    const creates = (await payment.stripe.requests()).filter(
      (r) => r.path === '/v1/payment_intents',
    );
    expect(creates.map((r) => r.status)).toEqual([null, 200]);
    expect(view.paymentIntentId).toMatch(/^pi_/);
    expect(await eventNames(request.payload.orderId)).toEqual(['payment.pending']);
  });

  it('opens the circuit while Stripe is down, holds the request, probes, and recovers without a second intent', async () => {
    await payment.stripe.failNext('api_error');
    const request = paymentRequested();
    await payment.publish(request);
    await eventually(async () => /stripe_circuit_state\{[^}]*\} 2/.test(await payment.metrics()), {
      what: 'the circuit to open',
    });
    // The request waits; Stripe is probed with the cheapest call until it answers.
    await eventually(
      async () =>
        (await payment.stripe.requests()).some((r) => r.path === '/v1/balance' && r.status === 500),
      { what: 'a probe while Stripe is down' },
    );
    expect(await payment.metrics()).toMatch(
      /dependency_available\{[^}]*dependency="stripe"[^}]*\} 0/,
    );
    await payment.stripe.clearFaults();
    await payment.untilStatus(request.payload.orderId, 'PENDING');
    expect(await payment.metrics()).toMatch(/stripe_circuit_state\{[^}]*\} 0/);
    const calls = await payment.stripe.requests();
    // Three outages opened it; then only probes, until one answered and the request went through.
    const creates = calls.filter((r) => r.path === '/v1/payment_intents');
    expect(creates.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(calls.find((r) => r.path === '/v1/balance' && r.status === 200)).toBeDefined();
    expect(await eventNames(request.payload.orderId)).toEqual(['payment.pending']);
    expect(await payment.metrics()).toMatch(
      /dependency_available\{[^}]*dependency="stripe"[^}]*\} 1/,
    );
  });

  describe('a request older than Stripe keeps its idempotency keys (PAYMENT_REQUEST_MAX_AGE_MS)', () => {
    const creates = async () =>
      (await payment.stripe.requests()).filter((r) => r.path === '/v1/payment_intents');

    /** payment.failed with reason request-expired, and the payment FAILED with it. */
    async function expectExpired(request: EventEnvelope<OrderPaymentRequestedV1Payload>) {
      const view = await payment.untilStatus(request.payload.orderId, 'FAILED');
      expect(view).toMatchObject({
        paymentIntentId: null,
        clientSecret: null,
        failure: { reason: 'request-expired', code: 'request-expired', declineCode: null },
      });
      await payment.relayed();
      const [failed, ...more] = await payment.eventsFor(request.payload.orderId);
      expect(more).toEqual([]);
      expect(failed).toMatchObject({
        eventName: 'payment.failed',
        causationId: request.eventId,
        sagaId: request.sagaId,
        payload: { orderId: request.payload.orderId, reason: 'request-expired' },
      });
      expect(failed!.payload).not.toHaveProperty('paymentIntentId');
    }

    it('fails the payment instead of creating a PaymentIntent for a request made 23 h ago', async () => {
      const request = {
        ...paymentRequested(),
        occurredAt: new Date(Date.now() - 23 * 3600_000 - 60_000).toISOString(),
      };
      await payment.publish(request);
      await expectExpired(request);
      expect(await creates()).toEqual([]);
    });

    it('still creates the intent for a request just inside the age', async () => {
      const request = {
        ...paymentRequested(),
        occurredAt: new Date(Date.now() - 22 * 3600_000).toISOString(),
      };
      const { view } = await requestPayment(request);
      expect(view.paymentIntentId).toMatch(/^pi_/);
      expect(await creates()).toHaveLength(1);
    });

    it('counts from the first attempt: a payment claimed 23 h ago is not created by a redelivery', async () => {
      // Stripe stays down: the payment is claimed (CREATING) and its request retried with back-off.
      await payment.stripe.failNext('api_error');
      const request = paymentRequested();
      await payment.publish(request);
      await eventually(async () => (await creates()).length > 0, { what: 'a create attempt' });
      await query(
        `UPDATE ${SCHEMA}.payments SET created_at = now() - interval '23 hours 1 minute' WHERE order_id = $1`,
        [request.payload.orderId],
      );
      await expectExpired(request);
      expect((await creates()).filter((r) => r.status === 200)).toEqual([]);
    });
  });

  it('dead-letters an invalid request without calling Stripe', async () => {
    const request = paymentRequested();
    const invalid = { ...request, payload: { ...request.payload, amountMinor: -1 } };
    await payment.publish(invalid);
    const letter = await eventually(async () =>
      (await payment.deadLetters()).find((l) => l.body.includes(request.eventId)),
    );
    expect(letter).toMatchObject({
      consumer: 'payment__order_payment-requested_v1',
      error: expect.stringContaining('amountMinor'),
    });
    expect(
      (await payment.stripe.requests()).filter((r) => r.path === '/v1/payment_intents'),
    ).toEqual([]);
    await payment
      .http()
      .get(`/payments/${request.payload.orderId}`)
      .set(await asTenantOperator())
      .expect(404);
  });

  it.each([
    ['amount', { amountMinor: 1 }, {}],
    ['currency', { currency: 'USD' }, {}],
    ['saga', {}, { sagaId: randomUUID() }],
    ['tenant', {}, { tenantId: 'tenant-other' }],
  ])(
    'dead-letters a second request of another %s for a payment it has, and changes nothing',
    async (reason, payload, origin) => {
      const { request, view } = await requestPayment();
      const forged = createEvent(
        OrderPaymentRequestedV1,
        { ...request.payload, ...payload },
        { cause: request, ...origin },
      );
      const rejected = () => metricValue(messagingMetrics.repliesRejected, { reason });
      const before = await rejected();
      await payment.publish(forged);
      const letter = await eventually(async () =>
        (await payment.deadLetters()).find((l) => l.body.includes(forged.eventId)),
      );
      expect(letter).toMatchObject({
        deliveries: 1,
        error: expect.stringMatching(`^PermanentEventError: ${reason}: `),
      });
      await payment.settled(subjectFor(forged.eventName, forged.eventVersion));
      expect(await rejected()).toBe(before + 1);
      expect(await payment.payment(request.payload.orderId)).toMatchObject({
        status: 'PENDING',
        amountMinor: view.amountMinor,
        currency: view.currency,
        paymentIntentId: view.paymentIntentId,
      });
      expect(await eventNames(request.payload.orderId)).toEqual(['payment.pending']);
    },
  );

  it('exposes its metrics', async () => {
    const metrics = await payment.metrics();
    expect(metrics).toMatch(/payment_intents_created_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/payments_succeeded_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/payments_failed_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/stripe_request_seconds_bucket\{[^}]*operation="create_intent"/);
    expect(metrics).toMatch(
      /stripe_webhooks_total\{[^}]*type="payment_intent.succeeded"[^}]*outcome="applied"/,
    );
  });

  describe('GET /payments/:orderId', () => {
    const read = (orderId: string, token?: { authorization: string }) => {
      const get = payment.http().get(`/payments/${orderId}`);
      return token ? get.set(token) : get;
    };
    const customerOf = (sub: string, tenantId = TENANT) => bearer(sub, ['customer'], tenantId);
    /** 404 with no trace of the payment: the same answer as an order that has none. */
    const expectHidden = (response: Response, orderId: string) => {
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        statusCode: 404,
        code: 'PAYMENT.NOT_FOUND',
        message: `no payment for order ${orderId}`,
      });
      expect(response.text).not.toMatch(/_secret_|pi_/);
      expect(response.headers['cache-control']).toBe('no-store');
    };

    it("shows the customer its own order's payment with the client secret, never cached", async () => {
      const { request, view } = await requestPayment();
      const response = await read(request.payload.orderId, await customerOf(CUSTOMER)).expect(200);
      expect(response.body).toEqual(view);
      expect(response.body).toMatchObject({ clientSecret: expect.stringMatching(/_secret_/) });
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('answers 404 to another customer, and to the same customer of another tenant', async () => {
      const { request } = await requestPayment();
      const { orderId } = request.payload;
      expectHidden(await read(orderId, await customerOf('customer-2')), orderId);
      expectHidden(await read(orderId, await customerOf(CUSTOMER, 'tenant-2')), orderId);
      expectHidden(await read(orderId, await bearer(CUSTOMER, ['customer'])), orderId);
    });

    it("shows an operator every customer's payments of its tenant, and nothing of another", async () => {
      const mine = await requestPayment();
      const theirs = await requestPayment(
        paymentRequested(1500, 'EUR', { customerId: 'customer-2', tenantId: TENANT }),
      );
      for (const { request, view } of [mine, theirs]) {
        const response = await read(request.payload.orderId, await asTenantOperator()).expect(200);
        expect(response.body).toEqual(view);
        expect(response.headers['cache-control']).toBe('no-store');
        const elsewhere = await bearer(OPERATOR.sub, OPERATOR.roles, 'tenant-2');
        expectHidden(await read(request.payload.orderId, elsewhere), request.payload.orderId);
      }
    });

    it('shows a payment whose customer is unknown to operators only', async () => {
      const { request } = await requestPayment(paymentRequested(4200, 'EUR', { tenantId: TENANT }));
      const { orderId } = request.payload;
      expectHidden(await read(orderId, await customerOf(CUSTOMER)), orderId);
      await read(orderId, await asTenantOperator()).expect(200);
    });

    it('puts a request without a tenant in the default tenant', async () => {
      const request = paymentRequested(4200, 'EUR', { customerId: CUSTOMER });
      await payment.publish(request);
      const { orderId } = request.payload;
      const operator = await asOperator();
      await eventually(async () => (await read(orderId, operator)).body.status === 'PENDING');
      const [row] = await query<{ tenant_id: string }>(
        `SELECT tenant_id FROM "${SCHEMA}".payments WHERE order_id = $1`,
        [orderId],
      );
      expect(row?.tenant_id).toBe('default');
      await read(orderId, await bearer(CUSTOMER, ['customer'])).expect(200);
      expectHidden(await read(orderId, await asTenantOperator()), orderId);
    });

    it('answers 401 without a valid token and 403 without the permission, never cached', async () => {
      const { request } = await requestPayment();
      const { orderId } = request.payload;
      for (const [token, status, code] of [
        [undefined, 401, 'AUTH.UNAUTHENTICATED'],
        [{ authorization: 'Bearer not.a.jwt' }, 401, 'AUTH.UNAUTHENTICATED'],
        [await bearer('merchant-1', ['merchant'], TENANT), 403, 'AUTH.FORBIDDEN'],
        [await bearer('trader-1', ['trader'], TENANT), 403, 'AUTH.FORBIDDEN'],
      ] as const) {
        const response = await read(orderId, token);
        expect(response.status).toBe(status);
        expect(response.body).toMatchObject({ code });
        expect(response.text).not.toMatch(/_secret_|pi_/);
        expect(response.headers['cache-control']).toBe('no-store');
      }
    });

    it('answers 404 for an order without a payment', async () => {
      const orderId = randomUUID();
      expectHidden(await read(orderId, await asTenantOperator()), orderId);
    });

    it('answers 400 for a malformed order id, never cached', async () => {
      const response = await read('not-a-uuid', await asTenantOperator()).expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID' });
      expect(response.headers['cache-control']).toBe('no-store');
    });
  });

  it('never puts a client secret in an event', async () => {
    const [row] = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${SCHEMA}".outbox WHERE body LIKE '%_secret_%'`,
    );
    expect(row?.n).toBe(0);
  });
});
