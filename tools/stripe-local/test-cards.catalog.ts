import { invalidParam, resourceMissing } from './stripe.errors';

/** What charging a card does: succeed, or be declined with Stripe's code and decline code. */
export type CardOutcome =
  { kind: 'approved' } | { kind: 'declined'; code: string; declineCode: string; message: string };

const APPROVED: CardOutcome = { kind: 'approved' };
const GENERIC_DECLINE: CardOutcome = {
  kind: 'declined',
  code: 'card_declined',
  declineCode: 'generic_decline',
  message: 'Your card was declined.',
};
const INSUFFICIENT_FUNDS: CardOutcome = {
  kind: 'declined',
  code: 'card_declined',
  declineCode: 'insufficient_funds',
  message: 'Your card has insufficient funds.',
};

/** Stripe's test card numbers (https://docs.stripe.com/testing), the ones this server knows. */
const CARD_NUMBERS: Record<string, CardOutcome> = {
  '4242424242424242': APPROVED,
  '5555555555554444': APPROVED,
  '4000000000000002': GENERIC_DECLINE,
  '4000000000009995': INSUFFICIENT_FUNDS,
};

/** Stripe's test PaymentMethod ids. */
const PAYMENT_METHODS: Record<string, CardOutcome> = {
  pm_card_visa: APPROVED,
  pm_card_mastercard: APPROVED,
  pm_card_chargeDeclined: GENERIC_DECLINE,
  pm_card_chargeDeclinedInsufficientFunds: INSUFFICIENT_FUNDS,
};

export function outcomeOfCard(number: string, param: string): CardOutcome {
  const outcome = CARD_NUMBERS[number.replace(/[\s-]/g, '')];
  if (!outcome)
    throw invalidParam(
      'invalid_number',
      `Unknown test card number; use one of ${Object.keys(CARD_NUMBERS).join(', ')}`,
      param,
    );
  return outcome;
}

export function outcomeOfPaymentMethod(id: string): CardOutcome {
  const outcome = PAYMENT_METHODS[id];
  if (!outcome) throw resourceMissing('PaymentMethod', id, 'payment_method');
  return outcome;
}
