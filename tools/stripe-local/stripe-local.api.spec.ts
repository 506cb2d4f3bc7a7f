import Stripe from 'stripe';
import { DEV_STRIPE_LOCAL_CONTROL_TOKEN } from './control-token';
import { StripeLocalClient, stripeSdk } from './stripe-local.client';
import { StripeLocal, startStripeLocal } from './stripe-local.server';

describe('stripe-local API through the stripe SDK', () => {
  let server: StripeLocal;
  let stripe: Stripe;
  let control: StripeLocalClient;

  const sdk = (options: Stripe.StripeConfig = {}, key = 'sk_test_local') =>
    stripeSdk(server, key, { maxNetworkRetries: 0, ...options });
  const newIntent = (params: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
    stripe.paymentIntents.create({
      amount: 2599,
      currency: 'eur',
      metadata: { orderId: 'order-1', sagaId: 'saga-1' },
      automatic_payment_methods: { enabled: true },
      ...params,
    });
  const rejection = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!error) throw new Error('expected the call to fail');
    return error as Stripe.errors.StripeError;
  };

  const controlHeaders = { authorization: `Bearer ${DEV_STRIPE_LOCAL_CONTROL_TOKEN}` };

  beforeAll(async () => {
    server = await startStripeLocal({ webhookSecret: 'whsec_test' });
    stripe = sdk();
    control = new StripeLocalClient(server.url);
  });
  afterEach(() => control.reset());
  afterAll(() => server.stop());

  describe('PaymentIntents', () => {
    it('creates an intent from form-encoded nested params and retrieves it', async () => {
      const created = await newIntent({ description: 'Order order-1' });

      expect(created).toMatchObject({
        object: 'payment_intent',
        amount: 2599,
        currency: 'eur',
        metadata: { orderId: 'order-1', sagaId: 'saga-1' },
        automatic_payment_methods: { enabled: true },
        capture_method: 'automatic',
        description: 'Order order-1',
        status: 'requires_payment_method',
        latest_charge: null,
        livemode: false,
      });
      expect(created.id).toMatch(/^pi_\w{24}$/);
      expect(created.client_secret).toMatch(new RegExp(`^${created.id}_secret_\\w+$`));
      expect(await stripe.paymentIntents.retrieve(created.id)).toEqual(created);
    });

    it('succeeds when confirmed with pm_card_visa and records the charge', async () => {
      const intent = await newIntent();

      const confirmed = await stripe.paymentIntents.confirm(intent.id, {
        payment_method: 'pm_card_visa',
      });

      expect(confirmed).toMatchObject({ status: 'succeeded', amount_received: 2599 });
      expect(confirmed.latest_charge).toMatch(/^ch_/);
      expect(confirmed.payment_method).toMatch(/^pm_/);
    });

    it('succeeds when confirmed with the 4242 card number, as a storefront sends it', async () => {
      const intent = await newIntent();

      const confirmed = await stripe.paymentIntents.confirm(intent.id, {
        payment_method_data: {
          type: 'card',
          card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' },
        } as Stripe.PaymentIntentConfirmParams.PaymentMethodData,
      });

      expect(confirmed.status).toBe('succeeded');
    });

    it('creates and confirms in one call with confirm=true', async () => {
      const intent = await newIntent({ confirm: true, payment_method: 'pm_card_visa' });

      expect(intent.status).toBe('succeeded');
    });

    it.each([
      ['4000000000000002', 'generic_decline'],
      ['4000000000009995', 'insufficient_funds'],
    ])(
      'declines card %s with a StripeCardError (%s) and lets the customer retry',
      async (number, declineCode) => {
        const intent = await newIntent();

        const error = await rejection(
          stripe.paymentIntents.confirm(intent.id, {
            payment_method_data: {
              type: 'card',
              card: { number },
            } as Stripe.PaymentIntentConfirmParams.PaymentMethodData,
          }),
        );

        expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
        expect(error).toMatchObject({
          statusCode: 402,
          code: 'card_declined',
          decline_code: declineCode,
        });
        expect(error.payment_intent).toMatchObject({
          id: intent.id,
          status: 'requires_payment_method',
        });
        const declined = await stripe.paymentIntents.retrieve(intent.id);
        expect(declined.last_payment_error).toMatchObject({
          code: 'card_declined',
          decline_code: declineCode,
        });
        const retried = await stripe.paymentIntents.confirm(intent.id, {
          payment_method: 'pm_card_visa',
        });
        expect(retried).toMatchObject({ status: 'succeeded', last_payment_error: null });
      },
    );

    it('declines pm_card_chargeDeclined', async () => {
      const intent = await newIntent();

      const error = await rejection(
        stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_chargeDeclined' }),
      );

      expect(error).toMatchObject({ type: 'StripeCardError', decline_code: 'generic_decline' });
    });

    it('authorizes with manual capture and captures later', async () => {
      const intent = await newIntent({ capture_method: 'manual' });

      const authorized = await stripe.paymentIntents.confirm(intent.id, {
        payment_method: 'pm_card_visa',
      });
      const captured = await stripe.paymentIntents.capture(intent.id);

      expect(authorized).toMatchObject({
        status: 'requires_capture',
        amount_capturable: 2599,
        amount_received: 0,
      });
      expect(captured).toMatchObject({
        status: 'succeeded',
        amount_capturable: 0,
        amount_received: 2599,
      });
    });

    it('refuses to capture an intent that is not authorized', async () => {
      const intent = await newIntent();

      const error = await rejection(stripe.paymentIntents.capture(intent.id));

      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.code).toBe('payment_intent_unexpected_state');
    });

    it('cancels an intent that has not succeeded, an authorized one too', async () => {
      const open = await newIntent();
      const authorized = await newIntent({
        capture_method: 'manual',
        confirm: true,
        payment_method: 'pm_card_visa',
      });

      const canceled = await stripe.paymentIntents.cancel(open.id, {
        cancellation_reason: 'abandoned',
      });
      const released = await stripe.paymentIntents.cancel(authorized.id);

      expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
      expect(canceled.canceled_at).toEqual(expect.any(Number));
      expect(released).toMatchObject({ status: 'canceled', amount_capturable: 0 });
    });

    it.each([
      ['succeeded', { confirm: true, payment_method: 'pm_card_visa' }],
      ['canceled', {}],
    ])(
      'refuses to cancel a %s intent with payment_intent_unexpected_state',
      async (status, params) => {
        const intent = await newIntent(params);
        if (status === 'canceled') await stripe.paymentIntents.cancel(intent.id);

        const error = await rejection(stripe.paymentIntents.cancel(intent.id));

        expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
        expect(error).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
        expect(error.message).toContain(`status of ${status}`);
      },
    );

    it('refuses to confirm without a payment method or twice', async () => {
      const intent = await newIntent();
      const missing = await rejection(stripe.paymentIntents.confirm(intent.id));
      await stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa' });

      const twice = await rejection(
        stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa' }),
      );

      expect(missing).toMatchObject({
        code: 'payment_intent_unexpected_state',
        param: 'payment_method',
      });
      expect(twice).toMatchObject({ code: 'payment_intent_unexpected_state' });
      expect(twice.message).toContain('status of succeeded');
    });

    it('answers 404 resource_missing for an unknown intent or payment method', async () => {
      const unknownIntent = await rejection(stripe.paymentIntents.retrieve('pi_unknown'));
      const intent = await newIntent();
      const unknownMethod = await rejection(
        stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_unknown' }),
      );

      expect(unknownIntent).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(unknownIntent).toMatchObject({ statusCode: 404, code: 'resource_missing' });
      expect(unknownMethod).toMatchObject({
        statusCode: 404,
        code: 'resource_missing',
        param: 'payment_method',
      });
    });
  });

  describe('bad input', () => {
    it.each([
      ['a missing amount', { amount: undefined }, 'parameter_missing', 'amount'],
      ['a negative amount', { amount: -5 }, 'parameter_invalid_integer', 'amount'],
      ['a bad currency', { currency: 'euro' }, 'parameter_invalid_string', 'currency'],
      [
        'an unknown capture method',
        { capture_method: 'later' },
        'parameter_invalid_string',
        'capture_method',
      ],
      [
        'an unknown parameter',
        { payment_method_types: ['card'] },
        'parameter_unknown',
        'payment_method_types',
      ],
      [
        'an unknown test card',
        {
          confirm: true,
          payment_method_data: { type: 'card', card: { number: '4111111111111112' } },
        },
        'invalid_number',
        'payment_method_data[card][number]',
      ],
    ])('refuses %s with a 400 naming the param', async (_case, params, code, param) => {
      const error = await rejection(newIntent(params as Partial<Stripe.PaymentIntentCreateParams>));

      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({ statusCode: 400, code, param });
    });

    it('creates nothing for a refused request: the same key then works with fixed params', async () => {
      const idempotencyKey = 'pay:create:bad-then-good';
      const refused = await rejection(
        stripe.paymentIntents.create({ amount: 100, currency: 'euro' }, { idempotencyKey }),
      );

      const created = await stripe.paymentIntents.create(
        { amount: 100, currency: 'eur' },
        { idempotencyKey },
      );

      expect(refused.code).toBe('parameter_invalid_string');
      expect(created.status).toBe('requires_payment_method');
    });

    it('refuses a parameter on a read', async () => {
      const intent = await newIntent();

      const error = await rejection(
        stripe.paymentIntents.retrieve(intent.id, {
          colour: 'blue',
        } as Stripe.PaymentIntentRetrieveParams),
      );

      expect(error).toMatchObject({
        statusCode: 400,
        code: 'parameter_unknown',
        param: 'colour',
      });
    });

    it('answers 404 for an unknown URL', async () => {
      const response = await fetch(`${server.url}/v1/customers`, {
        headers: { Authorization: 'Bearer sk_test_local' },
      });

      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        error: { type: 'invalid_request_error', code: 'resource_missing' },
      });
    });
  });

  describe('refunds', () => {
    const paidIntent = () => newIntent({ confirm: true, payment_method: 'pm_card_visa' });

    it('refunds a succeeded intent and marks the charge refunded', async () => {
      const intent = await paidIntent();

      const refund = await stripe.refunds.create(
        { payment_intent: intent.id },
        { idempotencyKey: `refund:${intent.id}` },
      );

      expect(refund).toMatchObject({
        object: 'refund',
        amount: 2599,
        charge: intent.latest_charge,
        payment_intent: intent.id,
        status: 'succeeded',
      });
      expect(refund.id).toMatch(/^re_/);
      expect(await stripe.refunds.retrieve(refund.id)).toEqual(refund);
    });

    it('refuses a second full refund with charge_already_refunded', async () => {
      const intent = await paidIntent();
      await stripe.refunds.create({ payment_intent: intent.id });

      const error = await rejection(stripe.refunds.create({ payment_intent: intent.id }));

      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.code).toBe('charge_already_refunded');
    });

    it('refunds in parts up to the amount charged, by intent or by charge', async () => {
      const intent = await paidIntent();
      await stripe.refunds.create({ payment_intent: intent.id, amount: 2000 });

      const tooMuch = await rejection(
        stripe.refunds.create({ payment_intent: intent.id, amount: 600 }),
      );
      const rest = await stripe.refunds.create({ charge: intent.latest_charge as string });

      expect(tooMuch).toMatchObject({ code: 'amount_too_large', param: 'amount' });
      expect(rest).toMatchObject({ amount: 599, payment_intent: intent.id });
    });

    it('refunds nothing for a refused request', async () => {
      const intent = await paidIntent();

      const badAmount = await rejection(
        stripe.refunds.create({ payment_intent: intent.id, amount: 0 }),
      );
      const badReason = await rejection(
        stripe.refunds.create({
          payment_intent: intent.id,
          reason: 'changed_mind' as Stripe.RefundCreateParams.Reason,
        }),
      );
      const neither = await rejection(stripe.refunds.create({ amount: 100 }));

      expect(badAmount).toMatchObject({
        statusCode: 400,
        code: 'amount_too_small',
        param: 'amount',
      });
      expect(badReason).toMatchObject({ statusCode: 400, param: 'reason' });
      expect(neither).toMatchObject({ statusCode: 400, code: 'parameter_missing' });
      expect((await stripe.refunds.create({ payment_intent: intent.id })).amount).toBe(2599);
    });

    it('refuses to refund an intent without a successful charge, or an unknown one', async () => {
      const intent = await newIntent();

      const unpaid = await rejection(stripe.refunds.create({ payment_intent: intent.id }));
      const unknown = await rejection(stripe.refunds.create({ payment_intent: 'pi_unknown' }));
      const missingRefund = await rejection(stripe.refunds.retrieve('re_unknown'));

      expect(unpaid).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
      expect(unknown).toMatchObject({
        statusCode: 404,
        code: 'resource_missing',
        param: 'payment_intent',
      });
      expect(missingRefund).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    });
  });

  describe('idempotency keys', () => {
    it('replays the first response for the same key and params, without a second effect', async () => {
      const idempotencyKey = 'pay:create:saga-replay';
      const first = await stripe.paymentIntents.create(
        { amount: 500, currency: 'usd' },
        { idempotencyKey },
      );

      const again = await stripe.paymentIntents.create(
        { amount: 500, currency: 'usd' },
        { idempotencyKey },
      );

      expect(again.id).toBe(first.id);
      expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
      expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
      const logged = (await control.requests()).filter((r) => r.idempotencyKey === idempotencyKey);
      expect(logged.map((r) => [r.status, r.replayed])).toEqual([
        [200, false],
        [200, true],
      ]);
    });

    it('replays an error response too: a declined confirm stays declined under its key', async () => {
      const intent = await newIntent();
      const idempotencyKey = `pay:confirm:${intent.id}`;
      const params = { payment_method: 'pm_card_chargeDeclined' };
      await rejection(stripe.paymentIntents.confirm(intent.id, params, { idempotencyKey }));

      const replayed = await rejection(
        stripe.paymentIntents.confirm(intent.id, params, { idempotencyKey }),
      );

      expect(replayed).toMatchObject({ type: 'StripeCardError', decline_code: 'generic_decline' });
      expect(replayed.headers?.['idempotent-replayed']).toBe('true');
    });

    it.each([
      ['other params', '/v1/payment_intents', { amount: 501, currency: 'usd' }],
      ['another endpoint', '/v1/refunds', { payment_intent: 'pi_x' }],
    ])('answers idempotency_error for the same key with %s', async (_case, path, params) => {
      const idempotencyKey = `reused-${path}`;
      await stripe.paymentIntents.create({ amount: 500, currency: 'usd' }, { idempotencyKey });

      const error = await rejection(stripe.rawRequest('POST', path, params, { idempotencyKey }));

      expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect(error).toMatchObject({ statusCode: 400, type: 'StripeIdempotencyError' });
    });
  });

  describe('balance', () => {
    it("answers Stripe's balance object, the call a client probes Stripe with", async () => {
      const balance = await stripe.balance.retrieve();

      expect(balance).toMatchObject({
        object: 'balance',
        livemode: false,
        available: [{ amount: 0, currency: 'usd' }],
      });
      expect((await control.requests()).map((r) => [r.method, r.path, r.status])).toEqual([
        ['GET', '/v1/balance', 200],
      ]);
    });
  });

  describe('authentication', () => {
    it('refuses a key that is not a test key with a StripeAuthenticationError', async () => {
      const error = await rejection(sdk({}, 'sk_live_nope').paymentIntents.retrieve('pi_x'));

      expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
      expect(error.statusCode).toBe(401);
    });

    it('refuses a request without a key', async () => {
      const response = await fetch(`${server.url}/v1/payment_intents/pi_x`);

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    });
  });

  describe('injected faults', () => {
    it('answers the next N calls with 500 api_error, then serves again', async () => {
      await control.failNext('api_error', 2);

      const first = await rejection(newIntent());
      const second = await rejection(newIntent());
      const third = await newIntent();

      expect(first).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(first.statusCode).toBe(500);
      expect(second).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(third.status).toBe('requires_payment_method');
      expect((await control.requests()).map((r) => [r.status, r.fault])).toEqual([
        [500, 'api_error'],
        [500, 'api_error'],
        [200, null],
      ]);
    });

    it('lets the SDK retry through an outage under one key, creating one intent', async () => {
      await control.failNext('api_error', 2);
      const retrying = sdk({ maxNetworkRetries: 2 });

      const intent = await retrying.paymentIntents.create(
        { amount: 700, currency: 'usd' },
        { idempotencyKey: 'pay:create:outage' },
      );

      expect(intent.status).toBe('requires_payment_method');
      const logged = await control.requests();
      expect(logged.map((r) => [r.idempotencyKey, r.status])).toEqual([
        ['pay:create:outage', 500],
        ['pay:create:outage', 500],
        ['pay:create:outage', 200],
      ]);
    });

    it('fails every call until the faults are cleared', async () => {
      await control.failNext('api_error');
      await rejection(newIntent());
      await rejection(newIntent());

      await control.clearFaults();

      expect((await newIntent()).status).toBe('requires_payment_method');
    });

    it('fails only the calls to the path it names, an id as *', async () => {
      const intent = await newIntent();
      await control.failNext('api_error', undefined, '/v1/payment_intents/*/cancel');

      const cancel = await rejection(stripe.paymentIntents.cancel(intent.id));
      const other = await newIntent();
      await control.clearFaults();
      const cancelled = await stripe.paymentIntents.cancel(intent.id);

      expect(cancel).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(other.status).toBe('requires_payment_method');
      expect(cancelled.status).toBe('canceled');
      expect((await control.requests()).map((r) => [r.path.split('/').at(-1), r.fault])).toEqual([
        ['payment_intents', null],
        ['cancel', 'api_error'],
        ['payment_intents', null],
        ['cancel', null],
      ]);
    });

    it('answers 429 rate_limit_error: StripeRateLimitError', async () => {
      await control.failNext('rate_limit', 1);

      const error = await rejection(newIntent());

      expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
      expect(error).toMatchObject({ statusCode: 429, code: 'rate_limit' });
      expect((await newIntent()).status).toBe('requires_payment_method');
    });

    it('leaves a call hanging past the client timeout: StripeConnectionError', async () => {
      await control.failNext('timeout', 1);

      const error = await rejection(
        sdk({ timeout: 200 }).paymentIntents.create({ amount: 100, currency: 'usd' }),
      );

      expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
      expect((await control.requests())[0]).toMatchObject({ status: null, fault: 'timeout' });
      expect((await newIntent()).status).toBe('requires_payment_method');
    });
  });

  describe('control API', () => {
    it('confirms like a storefront with a test card, a decline included', async () => {
      const paid = await newIntent();
      const declined = await newIntent();

      expect(await control.confirm(paid.id, '4242 4242 4242 4242')).toMatchObject({
        status: 'succeeded',
      });
      expect(await control.confirm(declined.id, '4000000000000002')).toMatchObject({
        status: 'requires_payment_method',
        last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' },
      });
      expect((await stripe.paymentIntents.retrieve(paid.id)).status).toBe('succeeded');
    });

    it('lists every PaymentIntent and refund as they are now, for reconciling', async () => {
      const refunded = await newIntent({ metadata: { orderId: 'order-ledger-1' } });
      const open = await newIntent({ metadata: { orderId: 'order-ledger-2' } });
      await control.confirm(refunded.id, '4242424242424242');
      const refund = await stripe.refunds.create({ payment_intent: refunded.id });

      const ledger = await control.ledger();

      expect(ledger.paymentIntents).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: refunded.id, status: 'succeeded' }),
          expect.objectContaining({ id: open.id, status: 'requires_payment_method' }),
        ]),
      );
      const ids = ledger.paymentIntents.map((intent) => intent.id);
      expect(ids.indexOf(refunded.id)).toBeLessThan(ids.indexOf(open.id));
      expect(ledger.refunds).toContainEqual(
        expect.objectContaining({ id: refund.id, payment_intent: refunded.id, amount: 2599 }),
      );
    });

    it.each([
      ['POST', '/_control/faults', { kind: 'sometimes' }, 400],
      ['POST', '/_control/faults', { kind: 'api_error', count: 0 }, 400],
      ['POST', '/_control/faults', { kind: 'api_error', path: 'refunds' }, 400],
      ['POST', '/_control/webhooks/duplicates', { times: 'two' }, 400],
      ['POST', '/_control/webhooks/endpoint', { url: 'ftp://x' }, 400],
      ['POST', '/_control/webhooks/release', { order: ['evt_unknown'] }, 400],
      ['POST', '/_control/payment_intents/pi_unknown/confirm', { card: '4242424242424242' }, 404],
      ['POST', '/_control/nothing', {}, 404],
    ])('answers %s %s %j with %i and a JSON error', async (method, path, body, status) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: controlHeaders,
        body: JSON.stringify(body),
      });

      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ error: { message: expect.any(String) } });
      expect(await control.requests()).toEqual([]);
    });

    it('refuses a body that is not JSON', async () => {
      const response = await fetch(`${server.url}/_control/faults`, {
        method: 'POST',
        headers: controlHeaders,
        body: 'kind=api_error',
      });

      expect(response.status).toBe(400);
      expect(
        await fetch(`${server.url}/_control/faults`, { headers: controlHeaders }).then((r) =>
          r.json(),
        ),
      ).toEqual({ fault: null });
    });

    it('refuses a body over 1 MiB with 413', async () => {
      const response = await fetch(`${server.url}/v1/payment_intents`, {
        method: 'POST',
        headers: { Authorization: 'Bearer sk_test_local' },
        body: `description=${'x'.repeat(1024 * 1024)}`,
      });

      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
      expect(await control.requests()).toEqual([]);
    });
  });

  describe('control token', () => {
    const token = 'a-control-token-of-this-test';
    let guarded: StripeLocal;
    const faults = (headers: Record<string, string>, init: RequestInit = {}) =>
      fetch(`${guarded.url}/_control/faults`, { ...init, headers });

    beforeAll(async () => {
      guarded = await startStripeLocal({ webhookSecret: 'whsec_test', controlToken: token });
    });
    afterAll(() => guarded.stop());

    it.each([
      ['no token', {}],
      ['another token', { authorization: 'Bearer another-token-of-this-test' }],
      ['the development token', { authorization: `Bearer ${DEV_STRIPE_LOCAL_CONTROL_TOKEN}` }],
      ['the token without Bearer', { authorization: token }],
      ['another token in the header', { 'stripe-local-control-token': 'nope' }],
    ])('answers 401 with a JSON error to %s and changes nothing', async (_, headers) => {
      const response = await faults(headers, {
        method: 'POST',
        body: JSON.stringify({ kind: 'api_error' }),
      });

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toEqual({
        error: expect.objectContaining({
          type: 'invalid_request_error',
          code: 'control_token_required',
          message: expect.stringContaining('STRIPE_LOCAL_CONTROL_TOKEN') as unknown,
        }) as unknown,
      });
      expect(await new StripeLocalClient(guarded.url, token).requests()).toEqual([]);
      expect(await faults({ authorization: `Bearer ${token}` }).then((r) => r.json())).toEqual({
        fault: null,
      });
    });

    it('takes the token as a bearer token or in the Stripe-Local-Control-Token header', async () => {
      const set = await faults(
        { authorization: `Bearer ${token}` },
        { method: 'POST', body: JSON.stringify({ kind: 'api_error', count: 1 }) },
      );
      expect(set.status).toBe(200);
      expect(await faults({ 'stripe-local-control-token': token }).then((r) => r.json())).toEqual({
        fault: { kind: 'api_error', remaining: 1, path: null },
      });
      await new StripeLocalClient(guarded.url, guarded.controlToken).clearFaults();
      await expect(new StripeLocalClient(guarded.url).clearFaults()).rejects.toThrow(
        'stripe-local DELETE /faults: 401',
      );
    });

    it('leaves the Stripe API to its own keys', async () => {
      const intent = await stripeSdk(guarded, 'sk_test_local', {
        maxNetworkRetries: 0,
      }).paymentIntents.create({ amount: 100, currency: 'eur' });
      expect(intent.status).toBe('requires_payment_method');
    });
  });
});
