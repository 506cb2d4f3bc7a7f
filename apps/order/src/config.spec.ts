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
});
