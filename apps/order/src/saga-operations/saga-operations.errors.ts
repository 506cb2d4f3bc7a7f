import { DomainError } from '@lib/platform';
import { SagaAction } from '@lib/operator-api';
import { SagaState } from '../order-saga/order-saga.state';

export class SagaNotFoundError extends DomainError {
  readonly code = 'SAGA.NOT_FOUND';
  readonly status = 404;
  constructor(sagaId: string) {
    super(`saga ${sagaId} does not exist`);
  }
}

/** The transition table has no such operator action in the saga's state. */
export class SagaActionNotAllowedError extends DomainError {
  readonly code = 'SAGA.ACTION_NOT_ALLOWED';
  readonly status = 409;
  /** `what`: the saga (`saga <id>`), or the filter of a bulk action. */
  constructor(what: string, action: SagaAction, state: SagaState, allowed: readonly SagaAction[]) {
    super(
      `${what} is ${state}: ${action} is not allowed there (allowed: ${allowed.join(', ') || 'none'})`,
    );
  }
}

/** Replies kept moving the saga while the action was being applied: try again. */
export class SagaBusyError extends DomainError {
  readonly code = 'SAGA.BUSY';
  readonly status = 409;
  constructor(sagaId: string) {
    super(`saga ${sagaId} kept changing while the action was applied; try again`);
  }
}
