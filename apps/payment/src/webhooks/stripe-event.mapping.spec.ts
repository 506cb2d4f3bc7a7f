import type Stripe from 'stripe';
import { decideWebhook } from './stripe-event.mapping';

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
    expect(decideWebhook(stripeEvent(type, { id: 'pi_1', metadata: ours }))).toEqual({
      trigger,
      paymentIntentId: 'pi_1',
      changes: {},
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
    expect(decideWebhook(failed)).toEqual({
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
        stripeEvent('charge.refunded', { id: 'ch_1', payment_intent: 'pi_1', refunded: true }),
      ),
    ).toEqual({ trigger: 'refunded', paymentIntentId: 'pi_1', changes: {} });
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
