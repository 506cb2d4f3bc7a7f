import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { eventually } from '../../tests/harness/wait';
import { StripeLocalClient, stripeSdk } from './stripe-local.client';
import { StripeLocal, startStripeLocal } from './stripe-local.server';

const SECRET = 'whsec_webhook_spec';

/** A tiny webhook endpoint: records what it receives, answers the statuses it is told to. */
class Receiver {
  readonly received: { body: string; signature: string }[] = [];
  /** Answers for the next requests (`'hang'`: none at all), then 200. */
  readonly statuses: (number | 'hang')[] = [];
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.received.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: String(req.headers['stripe-signature']),
        });
        const status = this.statuses.shift() ?? 200;
        if (status !== 'hang') res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/stripe`;
  }

  /** The received events, each verified as the payment app verifies them. */
  events(): Stripe.Event[] {
    return this.received.map(({ body, signature }) =>
      Stripe.webhooks.constructEvent(body, signature, SECRET),
    );
  }

  types(): string[] {
    return this.events().map((event) => event.type);
  }

  stop(): Promise<void> {
    this.server!.closeAllConnections();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

describe('stripe-local webhooks', () => {
  let receiver: Receiver;
  let server: StripeLocal;
  let stripe: Stripe;
  let control: StripeLocalClient;

  const paidIntent = (params: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
    stripe.paymentIntents.create({
      amount: 1500,
      currency: 'eur',
      metadata: { orderId: 'order-7' },
      confirm: true,
      payment_method: 'pm_card_visa',
      ...params,
    });
  const receivedCount = (count: number) =>
    eventually(() => receiver.received.length >= count, {
      what: `${count} webhook deliveries`,
    });

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    server = await startStripeLocal({
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhookRetryDelaysMs: [20, 20],
    });
    stripe = stripeSdk(server, 'sk_test_local', { maxNetworkRetries: 0 });
    control = new StripeLocalClient(server.url);
  });
  afterEach(async () => {
    await control.reset();
    receiver.received.length = 0;
    receiver.statuses.length = 0;
  });
  afterAll(async () => {
    await server.stop();
    await receiver.stop();
  });

  it('delivers payment_intent.succeeded signed as Stripe signs, with the intent and its request', async () => {
    const intent = await paidIntent();

    await receivedCount(1);

    const [event] = receiver.events();
    expect(event).toMatchObject({
      object: 'event',
      type: 'payment_intent.succeeded',
      livemode: false,
      api_version: expect.any(String),
      data: { object: { id: intent.id, status: 'succeeded', metadata: { orderId: 'order-7' } } },
      request: { id: intent.lastResponse.requestId },
    });
    expect(event!.id).toMatch(/^evt_/);
    expect(receiver.received[0]!.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('signs with the endpoint secret: another secret does not verify', async () => {
    await paidIntent();
    await receivedCount(1);

    const { body, signature } = receiver.received[0]!;

    expect(() => Stripe.webhooks.constructEvent(body, signature, 'whsec_other')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => Stripe.webhooks.constructEvent(`${body} `, signature, SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('delivers payment_intent.payment_failed with the decline codes', async () => {
    const intent = await stripe.paymentIntents.create({ amount: 900, currency: 'eur' });
    await control.confirm(intent.id, '4000000000000002');

    await receivedCount(1);

    expect(receiver.events()[0]).toMatchObject({
      type: 'payment_intent.payment_failed',
      data: {
        object: {
          id: intent.id,
          status: 'requires_payment_method',
          last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' },
        },
      },
    });
  });

  it('announces an authorization, then the capture', async () => {
    const intent = await paidIntent({ capture_method: 'manual' });
    await receivedCount(1);
    await stripe.paymentIntents.capture(intent.id);

    await receivedCount(2);

    expect(receiver.types()).toEqual([
      'payment_intent.amount_capturable_updated',
      'payment_intent.succeeded',
    ]);
    expect(receiver.events()[0]!.data.object).toMatchObject({ status: 'requires_capture' });
  });

  it('delivers payment_intent.canceled and charge.refunded', async () => {
    const open = await stripe.paymentIntents.create({ amount: 900, currency: 'eur' });
    const paid = await paidIntent();
    await stripe.paymentIntents.cancel(open.id);
    await stripe.refunds.create({ payment_intent: paid.id });

    await receivedCount(3);

    const [, canceled, refunded] = receiver.events();
    expect(canceled).toMatchObject({
      type: 'payment_intent.canceled',
      data: { object: { id: open.id } },
    });
    expect(refunded).toMatchObject({
      type: 'charge.refunded',
      data: {
        object: {
          object: 'charge',
          id: paid.latest_charge,
          payment_intent: paid.id,
          refunded: true,
          amount_refunded: 1500,
        },
      },
    });
  });

  it('sends nothing for a replayed idempotent request', async () => {
    const params = { amount: 1500, currency: 'eur', confirm: true, payment_method: 'pm_card_visa' };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'pay:create:once' });
    await stripe.paymentIntents.create(params, { idempotencyKey: 'pay:create:once' });
    const next = await paidIntent();

    await receivedCount(2);

    const events = receiver.events();
    expect(events.map((event) => (event.data.object as Stripe.PaymentIntent).id)).toEqual([
      first.id,
      next.id,
    ]);
    expect(events[0]!.request).toEqual({
      id: expect.stringMatching(/^req_/),
      idempotency_key: 'pay:create:once',
    });
  });

  it('retries a failed delivery with back-off until the endpoint answers 2xx', async () => {
    receiver.statuses.push(500, 503);
    await paidIntent();

    await receivedCount(3);

    const events = receiver.events();
    expect(new Set(events.map((event) => event.id)).size).toBe(1);
    expect((await control.deliveries()).map((d) => [d.attempt, d.statusCode, d.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 503, 'failed'],
      [3, 200, 'delivered'],
    ]);
  });

  it('gives up after the configured attempts', async () => {
    receiver.statuses.push(500, 500, 500);
    await paidIntent();
    const failed = await eventually(
      async () => ((await control.deliveries()).length === 3 ? control.deliveries() : undefined),
      { what: 'three failed attempts' },
    );
    // A later event is delivered once the endpoint recovers; the given-up one is not retried.
    await paidIntent();
    await receivedCount(4);

    expect(failed.map((d) => [d.attempt, d.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(
      (await control.deliveries()).filter((d) => d.eventId === failed[0]!.eventId),
    ).toHaveLength(3);
  });

  it('records a connection error and retries it', async () => {
    await control.setWebhookEndpoint('http://127.0.0.1:1/unreachable');
    await paidIntent();

    const deliveries = await eventually(
      async () => ((await control.deliveries()).length === 3 ? control.deliveries() : undefined),
      { what: 'three attempts' },
    );
    await control.setWebhookEndpoint(receiver.url);

    expect(deliveries.map((d) => [d.attempt, d.statusCode, d.outcome])).toEqual([
      [1, null, 'failed'],
      [2, null, 'failed'],
      [3, null, 'failed'],
    ]);
    expect(deliveries[0]!.error).toContain('ECONNREFUSED');
  });

  it('counts an endpoint that does not answer in time as failed, and retries', async () => {
    const impatient = await startStripeLocal({
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhookRetryDelaysMs: [20],
      webhookTimeoutMs: 100,
    });
    try {
      receiver.statuses.push('hang');
      await stripeSdk(impatient).paymentIntents.create({
        amount: 100,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
      });
      const impatientControl = new StripeLocalClient(impatient.url);

      const deliveries = await eventually(
        async () => {
          const all = await impatientControl.deliveries();
          return all.length === 2 ? all : undefined;
        },
        { what: 'a timed-out attempt and its retry' },
      );

      expect(deliveries.map((d) => [d.attempt, d.statusCode, d.outcome])).toEqual([
        [1, null, 'failed'],
        [2, 200, 'delivered'],
      ]);
      expect(deliveries[0]!.error).toBe('no answer within 100 ms');
    } finally {
      await impatient.stop();
    }
  });

  it('delivers each event several times on demand, every copy signed', async () => {
    await control.duplicateWebhooks(3);
    await paidIntent();

    await receivedCount(3);

    const events = receiver.events();
    expect(events.map((event) => event.type)).toEqual(Array(3).fill('payment_intent.succeeded'));
    expect(new Set(events.map((event) => event.id)).size).toBe(1);
    expect((await control.deliveries()).map((d) => d.copy)).toEqual([1, 2, 3]);
  });

  it('holds deliveries and releases them in reverse', async () => {
    await control.holdWebhooks();
    const intent = await paidIntent({ capture_method: 'manual' });
    await stripe.paymentIntents.capture(intent.id);
    await eventually(async () => (await control.heldWebhooks()).length === 2, {
      what: 'two held events',
    });
    expect(receiver.received).toEqual([]);

    await control.releaseWebhooks('reverse');

    expect(receiver.types()).toEqual([
      'payment_intent.succeeded',
      'payment_intent.amount_capturable_updated',
    ]);
    expect(await control.heldWebhooks()).toEqual([]);
  });

  it('releases held deliveries in a given order of event ids', async () => {
    await control.holdWebhooks();
    await paidIntent();
    await paidIntent();
    await paidIntent();
    const held = await eventually(
      async () =>
        (await control.heldWebhooks()).length === 3 ? control.heldWebhooks() : undefined,
      { what: 'three held events' },
    );

    await control.releaseWebhooks([held[2]!.id, held[0]!.id]);

    expect(receiver.events().map((event) => event.id)).toEqual([
      held[2]!.id,
      held[0]!.id,
      held[1]!.id,
    ]);
  });

  it('drops the next delivery on demand', async () => {
    await control.dropNextWebhooks();
    const dropped = await paidIntent();
    const delivered = await paidIntent();

    await receivedCount(1);

    expect(
      receiver.events().map((event) => (event.data.object as Stripe.PaymentIntent).id),
    ).toEqual([delivered.id]);
    expect((await control.deliveries()).map((d) => d.outcome).sort()).toEqual([
      'delivered',
      'dropped',
    ]);
    expect(dropped.status).toBe('succeeded');
  });

  it('delivers to an endpoint and secret set at run time, and logs events with no endpoint', async () => {
    const late = await startStripeLocal({ webhookSecret: 'whsec_unused' });
    const lateControl = new StripeLocalClient(late.url);
    const lateStripe = stripeSdk(late);
    try {
      await lateStripe.paymentIntents.create({
        amount: 100,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
      });
      await eventually(async () => (await lateControl.deliveries()).length === 1, {
        what: 'the unsent event',
      });

      await lateControl.setWebhookEndpoint(receiver.url, SECRET);
      await lateStripe.paymentIntents.create({
        amount: 100,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
      });
      await receivedCount(1);

      expect((await lateControl.deliveries()).map((d) => d.outcome)).toEqual([
        'no_endpoint',
        'delivered',
      ]);
      expect(receiver.types()).toEqual(['payment_intent.succeeded']);
    } finally {
      await late.stop();
    }
  });
});
