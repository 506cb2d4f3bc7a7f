import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import Stripe from 'stripe';
import { query, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { eventually } from '../../../../tests/harness/wait';
import { metricValue } from '../../../../tests/harness/metrics';
import {
  paymentRequested,
  PaymentTestApp,
  startPaymentTestApp,
  WEBHOOK_SECRET,
} from '../../test/payment-test-app';
import { paymentMetrics } from '../payment.metrics';
import { PaymentView } from '../payments/payments.service';

const SCHEMA = 'payments_webhook_test';

describe('POST /webhooks/stripe', () => {
  let payment: PaymentTestApp;

  beforeAll(async () => {
    payment = await startPaymentTestApp(SCHEMA);
  }, 60_000);

  afterEach(async () => {
    await payment.stripe.reset();
  });

  afterAll(async () => {
    await payment?.close();
  });

  async function pendingPayment(): Promise<PaymentView> {
    const request = paymentRequested();
    await payment.publish(request);
    return payment.untilStatus(request.payload.orderId, 'PENDING');
  }

  /** A Stripe event about an intent, as Stripe would build it (test mode, like the app's key). */
  function intentEvent(type: string, view: PaymentView, extra: object = {}, envelope: object = {}) {
    return {
      id: `evt_${randomUUID().replace(/-/g, '')}`,
      object: 'event',
      type,
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      ...envelope,
      data: {
        object: {
          id: view.paymentIntentId,
          object: 'payment_intent',
          amount: view.amountMinor,
          currency: view.currency?.toLowerCase(),
          metadata: { orderId: view.orderId },
          ...extra,
        },
      },
    };
  }

  /** Signs the exact bytes the way Stripe does; `secondsAgo` makes a stale signature. */
  function send(body: string, { secret = WEBHOOK_SECRET, secondsAgo = 0, sign = true } = {}) {
    const timestamp = Math.floor(Date.now() / 1000) - secondsAgo;
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret,
      timestamp,
    });
    const post = payment.http().post('/webhooks/stripe').set('Content-Type', 'application/json');
    return (sign ? post.set('Stripe-Signature', signature) : post).send(body);
  }

  async function storedEvents(): Promise<number> {
    const [row] = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${SCHEMA}".stripe_events`,
    );
    return row!.n;
  }

  async function eventNames(orderId: string): Promise<string[]> {
    await payment.relayed();
    return (await payment.eventsFor(orderId)).map((e) => e.eventName);
  }

  describe('answers 400, stores nothing and changes nothing', () => {
    let view: PaymentView;
    let succeeded: string;

    beforeAll(async () => {
      view = await pendingPayment();
      succeeded = JSON.stringify(intentEvent('payment_intent.succeeded', view));
    });

    afterEach(async () => {
      expect(await payment.payment(view.orderId)).toMatchObject({ status: 'PENDING' });
      expect(await eventNames(view.orderId)).toEqual(['payment.pending']);
    });

    it.each<[string, () => ReturnType<typeof send>]>([
      ['a signature made with another secret', () => send(succeeded, { secret: 'whsec_other' })],
      ['no Stripe-Signature header', () => send(succeeded, { sign: false })],
      ['a stale timestamp (10 minutes old)', () => send(succeeded, { secondsAgo: 600 })],
      ['a timestamp 10 minutes ahead', () => send(succeeded, { secondsAgo: -600 })],
      ['a timestamp a year ahead', () => send(succeeded, { secondsAgo: -365 * 24 * 3600 })],
      [
        'a body changed after signing',
        () =>
          payment
            .http()
            .post('/webhooks/stripe')
            .set('Content-Type', 'application/json')
            .set(
              'Stripe-Signature',
              Stripe.webhooks.generateTestHeaderString({
                payload: succeeded,
                secret: WEBHOOK_SECRET,
              }),
            )
            .send(succeeded.replace('payment_intent.succeeded', 'payment_intent.canceled')),
      ],
      ['a signed body that is not JSON', () => send('{"id": "evt_1", ')],
      ['a signed JSON body that is not an event', () => send('{"hello":"stripe"}')],
      ...[null, 'pi_1', []].map(
        (object) =>
          [
            `a signed event whose data.object is ${JSON.stringify(object)}`,
            () => send(JSON.stringify({ ...JSON.parse(succeeded), data: { object } })),
          ] as [string, () => ReturnType<typeof send>],
      ),
      ...['', 'true', 'evt_', 'evt_1 OR 1=1', 'pi_123'].map(
        (id) =>
          [
            `a signed event whose id ${JSON.stringify(id)} is not an event id`,
            () => send(JSON.stringify({ ...JSON.parse(succeeded), id })),
          ] as [string, () => ReturnType<typeof send>],
      ),
      ...['', 'true', 'pi_', 'evt_123', 'pi_1/../2'].map(
        (intentId) =>
          [
            `a signed event about a PaymentIntent id ${JSON.stringify(intentId)}`,
            () => {
              const event = JSON.parse(succeeded) as { data: { object: { id: string } } };
              event.data.object.id = intentId;
              return send(JSON.stringify(event));
            },
          ] as [string, () => ReturnType<typeof send>],
      ),
    ])('for %s', async (_case, post) => {
      const before = await storedEvents();
      const response = await post();
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, message: expect.any(String) });
      expect(await storedEvents()).toBe(before);
    });

    it('answers 415 to a body that is not JSON at all, and stores nothing', async () => {
      const before = await storedEvents();
      const response = await payment
        .http()
        .post('/webhooks/stripe')
        .set('Content-Type', 'text/plain')
        .set('Stripe-Signature', 't=1,v1=00')
        .send('payment_intent.succeeded');
      expect(response.status).toBe(415);
      expect(response.body).toMatchObject({ code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE' });
      expect(await storedEvents()).toBe(before);
    });
  });

  it('applies a signed event once: a duplicate answers 200 with no second effect', async () => {
    const view = await pendingPayment();
    const body = JSON.stringify(intentEvent('payment_intent.succeeded', view));
    const first = await send(body).expect(200);
    expect(first.body).toMatchObject({ received: true, outcome: 'applied' });
    const again = await send(body).expect(200);
    expect(again.body).toMatchObject({ received: true, outcome: 'duplicate' });
    expect(await payment.payment(view.orderId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await eventNames(view.orderId)).toEqual(['payment.pending', 'payment.succeeded']);
  });

  it('never moves a payment backwards: a failure after success is stored and ignored', async () => {
    const view = await pendingPayment();
    await send(JSON.stringify(intentEvent('payment_intent.succeeded', view))).expect(200);
    const late = intentEvent('payment_intent.payment_failed', view, {
      last_payment_error: { message: 'Your card was declined.', code: 'card_declined' },
    });
    const response = await send(JSON.stringify(late)).expect(200);
    expect(response.body).toMatchObject({ outcome: 'unchanged' });
    expect(await payment.payment(view.orderId)).toMatchObject({
      status: 'SUCCEEDED',
      failure: null,
    });
    expect(await eventNames(view.orderId)).toEqual(['payment.pending', 'payment.succeeded']);
  });

  it('acknowledges and ignores events that are not about our payments', async () => {
    const view = await pendingPayment();
    const foreign = intentEvent('payment_intent.succeeded', view);
    foreign.data.object.metadata = {} as { orderId: string };
    const unknownOrder = intentEvent('payment_intent.succeeded', {
      ...view,
      orderId: randomUUID(),
      paymentIntentId: 'pi_not_ours',
    });
    const notAnOrderId = intentEvent('payment_intent.succeeded', {
      ...view,
      orderId: 'order-of-another-integration',
      paymentIntentId: 'pi_not_ours',
    });
    const otherType = { ...intentEvent('customer.created', view), type: 'customer.created' };
    for (const event of [foreign, unknownOrder, notAnOrderId, otherType]) {
      const response = await send(JSON.stringify(event)).expect(200);
      expect(response.body).toMatchObject({ outcome: 'ignored' });
    }
    expect(await payment.payment(view.orderId)).toMatchObject({ status: 'PENDING' });
    expect(await eventNames(view.orderId)).toEqual(['payment.pending']);
  });

  describe('answers 200 to a signed event that does not match its payment, stores it rejected, moves nothing', () => {
    const rejectedCount = (reason: string) =>
      metricValue(paymentMetrics.webhooksRejected, { reason });

    it.each([
      ['amount', 'payment_intent.succeeded', { amount: 1 }, {}],
      ['currency', 'payment_intent.succeeded', { currency: 'usd' }, {}],
      ['payment-intent', 'payment_intent.succeeded', { id: 'pi_forged' }, {}],
      ['livemode', 'payment_intent.succeeded', {}, { livemode: true }],
      ['account', 'payment_intent.succeeded', {}, { account: 'acct_other' }],
      ['amount', 'payment_intent.amount_capturable_updated', { amount: 1 }, {}],
      ['payment-intent', 'payment_intent.canceled', { id: 'pi_forged' }, {}],
    ])('another %s on %s', async (reason, type, object, envelope) => {
      const view = await pendingPayment();
      const before = await rejectedCount(reason);
      const event = intentEvent(type, view, object, envelope);
      const response = await send(JSON.stringify(event)).expect(200);
      expect(response.body).toEqual({ received: true, eventId: event.id, outcome: 'rejected' });
      const [stored] = await query<{ outcome: string; reason: string }>(
        `SELECT outcome, reason FROM "${SCHEMA}".stripe_events WHERE id = $1`,
        [event.id],
      );
      expect(stored).toEqual({
        outcome: 'rejected',
        reason: expect.stringMatching(`^${reason}: `),
      });
      expect(await rejectedCount(reason)).toBe(before + 1);
      expect(await payment.payment(view.orderId)).toMatchObject({ status: 'PENDING' });
      expect(await eventNames(view.orderId)).toEqual(['payment.pending']);
      // Stripe's redelivery of the same event is a duplicate, not a second alert.
      await send(JSON.stringify(event)).expect(200, {
        received: true,
        eventId: event.id,
        outcome: 'duplicate',
      });
      expect(await rejectedCount(reason)).toBe(before + 1);
      // The real event still applies.
      await send(JSON.stringify(intentEvent(type, view))).expect(200);
      expect(await payment.payment(view.orderId)).not.toMatchObject({ status: 'PENDING' });
    });
  });

  it("maps a decline delivered by Stripe to payment.failed with Stripe's codes", async () => {
    const view = await pendingPayment();
    await payment.stripe.confirm(view.paymentIntentId!, '4000000000000002');
    const failed = await payment.untilStatus(view.orderId, 'FAILED');
    expect(failed.failure).toEqual({
      reason: 'Your card was declined.',
      code: 'card_declined',
      declineCode: 'generic_decline',
    });
    await payment.relayed();
    const events = await payment.eventsFor(view.orderId);
    expect(events[1]).toMatchObject({
      eventName: 'payment.failed',
      causationId: null,
      payload: {
        orderId: view.orderId,
        paymentId: view.paymentId,
        paymentIntentId: view.paymentIntentId,
        reason: 'Your card was declined.',
        code: 'card_declined',
        declineCode: 'generic_decline',
      },
    });
    // The saga's conversation carries over from the request, though no event caused this one.
    expect(events[1]!.correlationId).toBe(events[0]!.correlationId);
    expect(events[1]!.sagaId).toBe(events[0]!.sagaId);
  });

  it('applies an event whose transaction Postgres undid as a deadlock victim: it runs again, never 500', async () => {
    const view = await pendingPayment();
    const event = intentEvent('payment_intent.succeeded', view);
    const other = new Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      // Long enough that Postgres breaks the cycle below in the webhook's session, not this one.
      await other.query(`SET deadlock_timeout = '10s'`);
      const [{ pid }] = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
        .rows as [{ pid: number }];
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM "${SCHEMA}".payments WHERE order_id = $1 FOR UPDATE`, [
        view.orderId,
      ]);
      const delivery = send(JSON.stringify(event)).then((response) => response);
      await eventually(
        async () => {
          const [row] = await query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%' AND pid <> $1`,
            [pid],
          );
          return row!.n > 0;
        },
        { timeoutMs: 10_000, what: 'the webhook, its event stored, to wait for the payment' },
      );
      // Now this transaction waits for the webhook's event row, and the webhook for this one's
      // payment row: a deadlock, which Postgres breaks by undoing the webhook's transaction.
      await other.query(
        `INSERT INTO "${SCHEMA}".stripe_events (id, type, outcome) VALUES ($1, 'probe', 'ignored')
         ON CONFLICT DO NOTHING`,
        [event.id],
      );
      await other.query('ROLLBACK');
      const response = await delivery;
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ received: true, outcome: 'applied' });
    } finally {
      await other.end();
    }
    expect(await payment.payment(view.orderId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await eventNames(view.orderId)).toEqual(['payment.pending', 'payment.succeeded']);
  });

  it("applies Stripe's duplicated deliveries once", async () => {
    const view = await pendingPayment();
    await payment.stripe.duplicateWebhooks(3);
    await payment.stripe.confirm(view.paymentIntentId!, '4242424242424242');
    await eventually(
      async () =>
        (await payment.stripe.deliveries()).filter(
          (d) => d.type === 'payment_intent.succeeded' && d.outcome === 'delivered',
        ).length === 3,
      { what: 'three copies delivered' },
    );
    expect(await eventNames(view.orderId)).toEqual(['payment.pending', 'payment.succeeded']);
  });

  it('keeps the success when Stripe delivers the earlier decline after it', async () => {
    const view = await pendingPayment();
    await payment.stripe.holdWebhooks();
    await payment.stripe.confirm(view.paymentIntentId!, '4000000000000002');
    await payment.stripe.confirm(view.paymentIntentId!, '4242424242424242');
    expect((await payment.stripe.heldWebhooks()).map((e) => e.type)).toEqual([
      'payment_intent.payment_failed',
      'payment_intent.succeeded',
    ]);
    await payment.stripe.releaseWebhooks('reverse');
    expect(await payment.payment(view.orderId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await eventNames(view.orderId)).toEqual(['payment.pending', 'payment.succeeded']);
  });
});
