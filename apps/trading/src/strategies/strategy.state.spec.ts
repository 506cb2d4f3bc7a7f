import {
  IllegalStrategyTransition,
  STRATEGY_STATES,
  StrategyCommand,
  strategyTransition,
} from './strategy.state';

describe('strategy lifecycle', () => {
  it('goes Idle → Live → Stopped', () => {
    expect(strategyTransition('Idle', 'deploy')).toBe('Live');
    expect(strategyTransition('Live', 'stop')).toBe('Stopped');
  });

  it.each<[(typeof STRATEGY_STATES)[number], StrategyCommand]>([
    ['Idle', 'stop'],
    ['Live', 'deploy'],
    ['Stopped', 'deploy'],
    ['Stopped', 'stop'],
  ])('refuses %s → %s with a typed error', (state, command) => {
    expect(() => strategyTransition(state, command)).toThrow(IllegalStrategyTransition);
    expect(() => strategyTransition(state, command)).toThrow(
      `a strategy in ${state} cannot ${command}`,
    );
  });
});
