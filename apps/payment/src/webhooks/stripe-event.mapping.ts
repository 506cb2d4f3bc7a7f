import type Stripe from 'stripe';
import { TraceCarrier } from '@lib/observability';
import { Payment } from '../payments/payment.entity';
import { PaymentTrigger } from '../payments/payment.state';
import { PaymentChanges } from '../payments/payment.transitions';

/** What a Stripe event means for one of our payments. */
export interface WebhookDecision {
  trigger: PaymentTrigger;
  paymentIntentId: string;
  changes: PaymentChanges;
  /** Our order, from the intent's metadata (absent on a charge). */
  orderId?: string;
  /** The payment's trace, from the intent's metadata, when it was created with tracing on. */
  traceContext?: TraceCarrier;
  /** What the event says moved, compared with the payment row before it is believed. */
  amountMinor: unknown;
  currency: unknown;
}

/** Why a signed event about one of our payments is not believed: a closed list (metric label). */
export type WebhookRejection = 'payment-intent' | 'amount' | 'currency' | 'livemode' | 'account';

export interface WebhookMismatch {
  reason: WebhookRejection;
  detail: string;
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
    return {
      trigger,
      paymentIntentId: intent.id,
      changes,
      orderId: intent.metadata.orderId,
      traceContext: traceContextIn(intent.metadata),
      amountMinor: intent.amount,
      currency: intent.currency,
    };
  }
  if (event.type === 'charge.refunded') {
    // A charge carries its intent's id; the payment row (looked up by it) says whether it is ours.
    const charge = event.data.object as Partial<Stripe.Charge>;
    const intent = charge.payment_intent;
    const paymentIntentId = typeof intent === 'string' ? intent : intent?.id;
    if (!paymentIntentId || charge.refunded !== true) return undefined;
    return {
      trigger: 'refunded',
      paymentIntentId,
      changes: {},
      amountMinor: charge.amount,
      currency: charge.currency,
    };
  }
  return undefined;
}

/**
 * Whether a signed event agrees with the payment it names before it may move it: the same
 * PaymentIntent, amount and currency, Stripe's mode matching our key's (a live key takes only
 * `livemode: true` events, a test key only test ones), and our own account (an event of a connected
 * account has `account`). A valid signature proves Stripe sent it, not that it is about this
 * payment. Pure.
 */
export function checkWebhook(
  event: Pick<Stripe.Event, 'livemode' | 'account'>,
  decision: WebhookDecision,
  payment: Pick<Payment, 'paymentIntentId' | 'amountMinor' | 'currency'>,
  liveKey: boolean,
): WebhookMismatch | undefined {
  if (event.livemode !== liveKey) {
    return {
      reason: 'livemode',
      detail: `livemode ${event.livemode} with a ${liveKey ? 'live' : 'test'} key`,
    };
  }
  if (event.account) return { reason: 'account', detail: `an event of account ${event.account}` };
  if (decision.paymentIntentId !== payment.paymentIntentId) {
    return {
      reason: 'payment-intent',
      detail: `PaymentIntent ${decision.paymentIntentId}, the payment's is ${payment.paymentIntentId}`,
    };
  }
  if (decision.amountMinor !== payment.amountMinor) {
    return {
      reason: 'amount',
      detail: `${String(decision.amountMinor)}, the payment's is ${payment.amountMinor}`,
    };
  }
  const currency =
    typeof decision.currency === 'string' ? decision.currency.toUpperCase() : decision.currency;
  if (currency !== payment.currency) {
    return {
      reason: 'currency',
      detail: `${String(decision.currency)}, the payment's is ${payment.currency}`,
    };
  }
  return undefined;
}

function traceContextIn(metadata: Stripe.Metadata): TraceCarrier | undefined {
  const { traceparent, tracestate } = metadata;
  if (!traceparent) return undefined;
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
