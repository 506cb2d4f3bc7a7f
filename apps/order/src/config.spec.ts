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
});
