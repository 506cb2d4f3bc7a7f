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
