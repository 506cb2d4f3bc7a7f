/** The strategy lifecycle. Pure, no Nest. A stopped strategy stays stopped: create a new one. */
export const STRATEGY_STATES = ['Idle', 'Live', 'Stopped'] as const;
export type StrategyState = (typeof STRATEGY_STATES)[number];

export type StrategyCommand = 'deploy' | 'stop';

export const STRATEGY_TRANSITIONS: Record<
  StrategyState,
  Partial<Record<StrategyCommand, StrategyState>>
> = {
  Idle: { deploy: 'Live' },
  Live: { stop: 'Stopped' },
  Stopped: {},
};

export class IllegalStrategyTransition extends Error {
  override readonly name = 'IllegalStrategyTransition';
  constructor(
    readonly state: StrategyState,
    readonly command: StrategyCommand,
  ) {
    super(`a strategy in ${state} cannot ${command}`);
  }
}

/** The state `command` leads to from `state`; throws IllegalStrategyTransition if it may not. */
export function strategyTransition(state: StrategyState, command: StrategyCommand): StrategyState {
  const next = STRATEGY_TRANSITIONS[state][command];
  if (!next) throw new IllegalStrategyTransition(state, command);
  return next;
}
