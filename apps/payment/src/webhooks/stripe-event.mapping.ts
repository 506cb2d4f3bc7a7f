import type Stripe from 'stripe';
import { PaymentTrigger } from '../payments/payment.state';
import { PaymentChanges } from '../payments/payment.transitions';

/** What a Stripe event means for one of our payments. */
export interface WebhookDecision {
  trigger: PaymentTrigger;
  paymentIntentId: string;
  changes: PaymentChanges;
}

const INTENT_TRIGGERS: Partial<Record<string, PaymentTrigger>> = {
  'payment_intent.succeeded': 'succeeded',
  'payment_intent.payment_failed': 'failed',
  'payment_intent.canceled': 'cancelled',
  'payment_intent.amount_capturable_updated': 'authorized',
};

/**
 * Maps the event types the app listens to; anything else, and any intent without our metadata
 * (another integration on the same Stripe account), is undefined: acknowledged and ignored.
 */
export function decideWebhook(event: Stripe.Event): WebhookDecision | undefined {
  const trigger = INTENT_TRIGGERS[event.type];
  if (trigger) {
    const intent = event.data.object as Partial<Stripe.PaymentIntent>;
    if (typeof intent.id !== 'string' || !intent.metadata?.orderId) return undefined;
    const error = intent.last_payment_error;
    const changes: PaymentChanges =
      trigger === 'failed'
        ? {
            failureReason: error?.message ?? 'payment failed',
            failureCode: error?.code ?? null,
            declineCode: error?.decline_code ?? null,
          }
        : {};
    return { trigger, paymentIntentId: intent.id, changes };
  }
  if (event.type === 'charge.refunded') {
    // A charge carries its intent's id; the payment row (looked up by it) says whether it is ours.
    const charge = event.data.object as Partial<Stripe.Charge>;
    const intent = charge.payment_intent;
    const paymentIntentId = typeof intent === 'string' ? intent : intent?.id;
    if (!paymentIntentId || charge.refunded !== true) return undefined;
    return { trigger: 'refunded', paymentIntentId, changes: {} };
  }
  return undefined;
}
