import { DomainError } from '@lib/platform';

export class OrderNotFoundError extends DomainError {
  readonly code = 'ORDER.NOT_FOUND';
  readonly status = 404;
  constructor(orderId: string) {
    super(`order ${orderId} does not exist`);
  }
}

export class OrderAlreadyFinishedError extends DomainError {
  readonly code = 'ORDER.ALREADY_FINISHED';
  readonly status = 409;
  constructor(orderId: string, state: string) {
    super(`order ${orderId} can no longer be cancelled: its saga is ${state}`);
  }
}

/** An order in a currency some of its products are not priced in: refused before any saga starts. */
export class CurrencyNotSupportedError extends DomainError {
  readonly code = 'ORDER.CURRENCY_NOT_SUPPORTED';
  readonly status = 400;
  constructor(currency: string, pricedElsewhere: { sku: string; currency: string }[]) {
    const products = pricedElsewhere.map(({ sku, currency: own }) => `${sku} (${own})`);
    super(`not priced in ${currency}: ${products.join(', ')}`);
  }
}
