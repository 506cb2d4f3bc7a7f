/** Payment states and the transition table: what each trigger does in each state. Pure, no Nest. */
export const PAYMENT_STATUSES = [
  'CREATING',
  'PENDING',
  'AUTHORIZED',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'REFUNDED',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** What happened at Stripe, reported by our own call or by a webhook. */
export type PaymentTrigger =
  | 'created'
  | 'creation-failed'
  | 'authorized'
  | 'succeeded'
  | 'captured'
  | 'failed'
  | 'cancelled'
  | 'refunded'
  /** The order was cancelled and Stripe holds no intent for it: nothing to cancel there. */
  | 'abandoned';

/** The `payment.*` event a transition publishes. */
export type PaymentAnnouncement = 'pending' | 'succeeded' | 'failed' | 'cancelled' | 'refunded';

export interface PaymentTransition {
  to: PaymentStatus;
  announce?: PaymentAnnouncement;
}

const succeeded: PaymentTransition = { to: 'SUCCEEDED', announce: 'succeeded' };
const cancelled: PaymentTransition = { to: 'CANCELLED', announce: 'cancelled' };
const refunded: PaymentTransition = { to: 'REFUNDED', announce: 'refunded' };

/**
 * A trigger missing from a state's row is late, duplicated or out of order: it changes nothing, so
 * a payment never moves backwards (a late `payment_intent.succeeded` after a refund is ignored).
 * With manual capture the authorization is what the saga waits for: it announces `succeeded`, and
 * the capture that follows `order.confirmed` announces nothing more.
 */
export const PAYMENT_TRANSITIONS: Record<
  PaymentStatus,
  Partial<Record<PaymentTrigger, PaymentTransition>>
> = {
  CREATING: {
    created: { to: 'PENDING', announce: 'pending' },
    'creation-failed': { to: 'FAILED', announce: 'failed' },
    // The compensation found the intent through its creation key and cancelled it.
    cancelled,
    // Stripe refused to create it: the cancelled order leaves nothing to undo, nor to announce.
    abandoned: { to: 'CANCELLED' },
  },
  PENDING: {
    authorized: { to: 'AUTHORIZED', announce: 'succeeded' },
    succeeded,
    failed: { to: 'FAILED', announce: 'failed' },
    cancelled,
    // The money moved and went back before its webhook arrived.
    refunded,
  },
  AUTHORIZED: {
    succeeded: { to: 'SUCCEEDED' },
    captured: { to: 'SUCCEEDED' },
    cancelled,
    refunded,
  },
  // After a decline the customer may still pay with another card until the compensation cancels.
  FAILED: { succeeded, cancelled, refunded, abandoned: { to: 'CANCELLED' } },
  SUCCEEDED: { refunded },
  CANCELLED: {},
  REFUNDED: {},
};

export function paymentTransition(
  status: PaymentStatus,
  trigger: PaymentTrigger,
): PaymentTransition | undefined {
  return PAYMENT_TRANSITIONS[status][trigger];
}
