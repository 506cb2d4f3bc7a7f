import { DomainError } from '@lib/platform';

export class PaymentNotFoundError extends DomainError {
  readonly code = 'PAYMENT.NOT_FOUND';
  readonly status = 404;
  constructor(orderId: string) {
    super(`no payment for order ${orderId}`);
  }
}

/** Stripe's intent is in a state the compensation cannot act on yet (e.g. processing): retried. */
export class PaymentNotSettledError extends Error {
  override readonly name = 'PaymentNotSettledError';
}
