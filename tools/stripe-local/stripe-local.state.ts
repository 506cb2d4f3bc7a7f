import {
  API_VERSION,
  CaptureMethod,
  Charge,
  EventType,
  newId,
  nowSeconds,
  PaymentIntent,
  Refund,
  StripeEvent,
} from './stripe.objects';
import {
  invalidRequest,
  missingPaymentMethod,
  resourceMissing,
  StripeApiError,
  unexpectedState,
} from './stripe.errors';
import { CardOutcome } from './test-cards.catalog';

export interface NewPaymentIntent {
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  captureMethod: CaptureMethod;
  automaticPaymentMethods: boolean | undefined;
  description: string | undefined;
}

export interface NewRefund {
  paymentIntent: string | undefined;
  charge: string | undefined;
  amount: number | undefined;
  reason: string | undefined;
  metadata: Record<string, string>;
}

/** The request an object change came from; Stripe puts it on the event (`event.request`). */
export interface RequestOrigin {
  requestId: string | null;
  idempotencyKey: string | null;
}

/**
 * The in-memory Stripe account: PaymentIntents, their charges and refunds, and the transitions
 * Stripe allows. Every change that Stripe announces becomes an event handed to `publish`.
 * Callers get copies, so an answer or an event never changes after the fact.
 */
export class StripeState {
  private readonly intents = new Map<string, PaymentIntent>();
  private readonly charges = new Map<string, Charge>();
  private readonly refunds = new Map<string, Refund>();

  constructor(private readonly publish: (event: StripeEvent) => void) {}

  createPaymentIntent(input: NewPaymentIntent): PaymentIntent {
    const id = newId('pi');
    const intent: PaymentIntent = {
      id,
      object: 'payment_intent',
      amount: input.amount,
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods:
        input.automaticPaymentMethods === undefined
          ? null
          : { enabled: input.automaticPaymentMethods },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: input.captureMethod,
      client_secret: `${id}_secret_${newId('x').slice(2)}`,
      confirmation_method: 'automatic',
      created: nowSeconds(),
      currency: input.currency,
      description: input.description ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: input.metadata,
      payment_method: null,
      payment_method_types: ['card'],
      status: 'requires_payment_method',
    };
    this.intents.set(id, intent);
    return structuredClone(intent);
  }

  paymentIntent(id: string): PaymentIntent {
    return structuredClone(this.intentOrThrow(id));
  }

  /** Charges the card: a decline leaves the intent waiting for another payment method, as Stripe does, and answers 402. */
  confirmPaymentIntent(
    id: string,
    card: CardOutcome | undefined,
    origin: RequestOrigin,
  ): PaymentIntent {
    const intent = this.intentOrThrow(id);
    if (intent.status !== 'requires_payment_method')
      throw unexpectedState('confirm', intent.status);
    if (!card) throw missingPaymentMethod();
    const paymentMethod = newId('pm');
    if (card.kind === 'declined') {
      intent.payment_method = null;
      intent.last_payment_error = {
        type: 'card_error',
        code: card.code,
        decline_code: card.declineCode,
        message: card.message,
        payment_method: { id: paymentMethod, object: 'payment_method', type: 'card' },
      };
      this.announce('payment_intent.payment_failed', intent, origin);
      throw new StripeApiError(402, {
        type: 'card_error',
        code: card.code,
        decline_code: card.declineCode,
        message: card.message,
        payment_intent: structuredClone(intent),
      });
    }
    const manual = intent.capture_method === 'manual';
    const charge: Charge = {
      id: newId('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: manual ? 0 : intent.amount,
      amount_refunded: 0,
      captured: !manual,
      created: nowSeconds(),
      currency: intent.currency,
      livemode: false,
      metadata: { ...intent.metadata },
      paid: true,
      payment_intent: intent.id,
      payment_method: paymentMethod,
      refunded: false,
      status: 'succeeded',
    };
    this.charges.set(charge.id, charge);
    Object.assign(intent, {
      payment_method: paymentMethod,
      last_payment_error: null,
      latest_charge: charge.id,
      status: manual ? 'requires_capture' : 'succeeded',
      amount_capturable: manual ? intent.amount : 0,
      amount_received: manual ? 0 : intent.amount,
    });
    this.announce(
      manual ? 'payment_intent.amount_capturable_updated' : 'payment_intent.succeeded',
      intent,
      origin,
    );
    return structuredClone(intent);
  }

  capturePaymentIntent(
    id: string,
    amount: number | undefined,
    origin: RequestOrigin,
  ): PaymentIntent {
    const intent = this.intentOrThrow(id);
    if (intent.status !== 'requires_capture') throw unexpectedState('capture', intent.status);
    const captured = amount ?? intent.amount_capturable;
    if (captured > intent.amount_capturable)
      throw invalidRequest(
        'amount_too_large',
        `The amount to capture (${captured}) is greater than the amount capturable (${intent.amount_capturable}).`,
        'amount_to_capture',
      );
    const charge = this.chargeOf(intent);
    Object.assign(charge, { captured: true, amount_captured: captured });
    Object.assign(intent, { status: 'succeeded', amount_capturable: 0, amount_received: captured });
    this.announce('payment_intent.succeeded', intent, origin);
    return structuredClone(intent);
  }

  cancelPaymentIntent(
    id: string,
    reason: string | undefined,
    origin: RequestOrigin,
  ): PaymentIntent {
    const intent = this.intentOrThrow(id);
    if (intent.status === 'succeeded' || intent.status === 'canceled')
      throw unexpectedState('cancel', intent.status);
    Object.assign(intent, {
      status: 'canceled',
      canceled_at: nowSeconds(),
      cancellation_reason: reason ?? null,
      amount_capturable: 0,
    });
    this.announce('payment_intent.canceled', intent, origin);
    return structuredClone(intent);
  }

  createRefund(input: NewRefund, origin: RequestOrigin): Refund {
    const charge = this.refundableCharge(input);
    const unrefunded = charge.amount_captured - charge.amount_refunded;
    if (unrefunded === 0)
      throw invalidRequest(
        'charge_already_refunded',
        `Charge ${charge.id} has already been refunded.`,
      );
    const amount = input.amount ?? unrefunded;
    if (amount > unrefunded)
      throw invalidRequest(
        'amount_too_large',
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${unrefunded})`,
        'amount',
      );
    const refund: Refund = {
      id: newId('re'),
      object: 'refund',
      amount,
      charge: charge.id,
      created: nowSeconds(),
      currency: charge.currency,
      metadata: input.metadata,
      payment_intent: charge.payment_intent,
      reason: input.reason ?? null,
      status: 'succeeded',
    };
    this.refunds.set(refund.id, refund);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount_captured;
    this.announce('charge.refunded', charge, origin);
    return structuredClone(refund);
  }

  /** Every PaymentIntent and every refund, oldest first: what a test reconciles its orders with. */
  ledger(): { paymentIntents: PaymentIntent[]; refunds: Refund[] } {
    return {
      paymentIntents: [...this.intents.values()].map((intent) => structuredClone(intent)),
      refunds: [...this.refunds.values()].map((refund) => structuredClone(refund)),
    };
  }

  refund(id: string): Refund {
    const refund = this.refunds.get(id);
    if (!refund) throw resourceMissing('refund', id);
    return structuredClone(refund);
  }

  private refundableCharge(input: NewRefund): Charge {
    if (input.charge) {
      const charge = this.charges.get(input.charge);
      if (!charge) throw resourceMissing('charge', input.charge, 'charge');
      return charge;
    }
    if (!input.paymentIntent)
      throw invalidRequest(
        'parameter_missing',
        'One of the following params should be provided for this request: payment_intent or charge.',
        'payment_intent',
      );
    const intent = this.intents.get(input.paymentIntent);
    if (!intent) throw resourceMissing('payment_intent', input.paymentIntent, 'payment_intent');
    if (intent.status !== 'succeeded')
      throw invalidRequest(
        'payment_intent_unexpected_state',
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
        'payment_intent',
      );
    return this.chargeOf(intent);
  }

  private intentOrThrow(id: string): PaymentIntent {
    const intent = this.intents.get(id);
    if (!intent) throw resourceMissing('payment_intent', id);
    return intent;
  }

  private chargeOf(intent: PaymentIntent): Charge {
    const charge = intent.latest_charge ? this.charges.get(intent.latest_charge) : undefined;
    if (!charge) throw new Error(`${intent.id} has no charge in state ${intent.status}`);
    return charge;
  }

  private announce(type: EventType, object: PaymentIntent | Charge, origin: RequestOrigin): void {
    this.publish({
      id: newId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: nowSeconds(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: origin.requestId, idempotency_key: origin.idempotencyKey },
      type,
    });
  }
}
