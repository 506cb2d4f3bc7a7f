import { ConfigError, loadConfig } from '@lib/platform';
import { OrderConfig } from './config';

describe('OrderConfig', () => {
  it('runs the whole app in one process by default', () => {
    expect(loadConfig(OrderConfig, {})).toMatchObject({ PORT: 3001, ORDER_ROLE: 'all' });
  });

  it.each(['api', 'worker'])('takes ORDER_ROLE=%s', (role) => {
    expect(loadConfig(OrderConfig, { ORDER_ROLE: role }).ORDER_ROLE).toBe(role);
  });

  it('rejects an unknown ORDER_ROLE naming the roles', () => {
    expect(() => loadConfig(OrderConfig, { ORDER_ROLE: 'both' })).toThrow(
      new ConfigError('Invalid configuration: ORDER_ROLE must be one of all, api, worker'),
    );
  });

  it.each(['XYZ', 'eur', 'EURO'])(
    'rejects DEFAULT_CURRENCY=%s: not an ISO 4217 code',
    (currency) => {
      expect(() => loadConfig(OrderConfig, { DEFAULT_CURRENCY: currency })).toThrow(
        new ConfigError(
          'Invalid configuration: DEFAULT_CURRENCY must be an ISO 4217 code in upper case like EUR',
        ),
      );
    },
  );

  it('waits 20 ms for orders placed close behind one another, and takes 0 for never', () => {
    expect(loadConfig(OrderConfig, {}).ORDER_START_WINDOW_MS).toBe(20);
    expect(loadConfig(OrderConfig, { ORDER_START_WINDOW_MS: '0' }).ORDER_START_WINDOW_MS).toBe(0);
  });

  it.each([
    ['-1', 'must be between 0 and 1000'],
    ['1001', 'must be between 0 and 1000'],
    ['soon', 'must be an integer'],
  ])('rejects ORDER_START_WINDOW_MS=%s', (value, problem) => {
    expect(() => loadConfig(OrderConfig, { ORDER_START_WINDOW_MS: value })).toThrow(
      new ConfigError(`Invalid configuration: ORDER_START_WINDOW_MS ${problem}`),
    );
  });
});
