import { DomainError } from '@lib/platform';
import { StrategyCommand } from './strategy.state';

export class StrategyNotFoundError extends DomainError {
  readonly code = 'TRADING.STRATEGY_NOT_FOUND';
  readonly status = 404;
  constructor(strategyId: string) {
    super(`strategy ${strategyId} does not exist`);
  }
}

export class IllegalTransitionError extends DomainError {
  readonly code = 'TRADING.ILLEGAL_TRANSITION';
  readonly status = 409;
}

/** One command at a time: a second one could overtake the first on its way through JetStream. */
export class CommandPendingError extends DomainError {
  readonly code = 'TRADING.COMMAND_PENDING';
  readonly status = 409;
  constructor(strategyId: string, pending: StrategyCommand) {
    super(`strategy ${strategyId} is still carrying out ${pending}; try again once it has`);
  }
}
