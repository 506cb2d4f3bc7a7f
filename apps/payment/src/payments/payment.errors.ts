import { DomainError } from '@lib/platform';

export class PaymentNotFoundError extends DomainError {
  readonly code = 'PAYMENT.NOT_FOUND';
  readonly status = 404;
  constructor(orderId: string) {
    super(`no payment for order ${orderId}`);
  }
}

/** The compensation met a payment still moving (a racing request, a processing intent): retried. */
export class CompensationRetryError extends Error {
  override readonly name = 'CompensationRetryError';
}
