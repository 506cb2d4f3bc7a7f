import type Stripe from 'stripe';
import { checkWebhook, decideWebhook, WebhookDecision } from './stripe-event.mapping';

const ours = { orderId: '0b9f3c52-4f7e-4c55-9a3d-0d6f7d2b1c11', sagaId: 's', correlationId: 'c' };

function stripeEvent(type: string, object: Record<string, unknown>): Stripe.Event {
  return { id: 'evt_1', object: 'event', type, data: { object } } as unknown as Stripe.Event;
}

describe('decideWebhook', () => {
  it.each([
    ['payment_intent.succeeded', 'succeeded'],
    ['payment_intent.canceled', 'cancelled'],
    ['payment_intent.amount_capturable_updated', 'authorized'],
  ])('maps %s of our intent to %s', (type, trigger) => {
    expect(
      decideWebhook(
        stripeEvent(type, { id: 'pi_1', metadata: ours, amount: 4200, currency: 'eur' }),
      ),
    ).toEqual({
      trigger,
      paymentIntentId: 'pi_1',
      changes: {},
      orderId: ours.orderId,
      amountMinor: 4200,
      currency: 'eur',
    });
  });

  it("carries Stripe's message, code and decline code on a failure", () => {
    const failed = stripeEvent('payment_intent.payment_failed', {
      id: 'pi_1',
      metadata: ours,
      last_payment_error: {
        message: 'Your card was declined.',
        code: 'card_declined',
        decline_code: 'generic_decline',
      },
    });
    expect(decideWebhook(failed)).toMatchObject({
      trigger: 'failed',
      paymentIntentId: 'pi_1',
      changes: {
        failureReason: 'Your card was declined.',
        failureCode: 'card_declined',
        declineCode: 'generic_decline',
      },
    });
  });

  it('maps a fully refunded charge to its intent', () => {
    expect(
      decideWebhook(
        stripeEvent('charge.refunded', {
          id: 'ch_1',
          payment_intent: 'pi_1',
          refunded: true,
          amount: 4200,
          currency: 'eur',
        }),
      ),
    ).toEqual({
      trigger: 'refunded',
      paymentIntentId: 'pi_1',
      changes: {},
      amountMinor: 4200,
      currency: 'eur',
    });
    expect(
      decideWebhook(
        stripeEvent('charge.refunded', { id: 'ch_1', payment_intent: 'pi_1', refunded: false }),
      ),
    ).toBeUndefined();
  });

  it('ignores intents without our metadata and types it does not listen to', () => {
    expect(
      decideWebhook(stripeEvent('payment_intent.succeeded', { id: 'pi_1', metadata: {} })),
    ).toBeUndefined();
    expect(
      decideWebhook(stripeEvent('customer.created', { id: 'cus_1', metadata: ours })),
    ).toBeUndefined();
  });
});

describe('checkWebhook', () => {
  const payment = { paymentIntentId: 'pi_1', amountMinor: 4200, currency: 'EUR' };
  const decision: WebhookDecision = {
    trigger: 'succeeded',
    paymentIntentId: 'pi_1',
    changes: {},
    amountMinor: 4200,
    currency: 'eur',
  };
  const test = { livemode: false, account: undefined };

  it('believes an event of the payment, in the mode of the key', () => {
    expect(checkWebhook(test, decision, payment, false)).toBeUndefined();
    expect(checkWebhook({ ...test, livemode: true }, decision, payment, true)).toBeUndefined();
  });

  it.each([
    ['livemode', { ...test, livemode: true }, decision, false],
    ['livemode', test, decision, true],
    ['account', { ...test, account: 'acct_1' }, decision, false],
    ['payment-intent', test, { ...decision, paymentIntentId: 'pi_2' }, false],
    ['amount', test, { ...decision, amountMinor: 1 }, false],
    ['amount', test, { ...decision, amountMinor: undefined }, false],
    ['currency', test, { ...decision, currency: 'usd' }, false],
  ])('refuses another %s', (reason, event, other, liveKey) => {
    expect(checkWebhook(event, other, payment, liveKey)).toMatchObject({ reason });
  });
});
