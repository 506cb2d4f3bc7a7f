import { ConfigError, loadConfig } from '@lib/platform';
import { InventoryConfig } from './config';

describe('InventoryConfig', () => {
  it('holds reservations 15 minutes and cleans every minute, 500 at a time, by default', () => {
    expect(loadConfig(InventoryConfig, {})).toMatchObject({
      PORT: 3003,
      RESERVATION_TTL_MS: 900_000,
      RESERVATION_CLEANER_INTERVAL_MS: 60_000,
      RESERVATION_CLEANER_BATCH: 500,
    });
  });

  it.each([
    ['RESERVATION_TTL_MS', '0', 'RESERVATION_TTL_MS must be at least 1'],
    ['RESERVATION_TTL_MS', '1.5', 'RESERVATION_TTL_MS must be an integer'],
    [
      'RESERVATION_CLEANER_INTERVAL_MS',
      'soon',
      'RESERVATION_CLEANER_INTERVAL_MS must be an integer',
    ],
    ['RESERVATION_CLEANER_BATCH', '0', 'RESERVATION_CLEANER_BATCH must be between 1 and 10000'],
  ])('rejects %s=%s naming it', (name, value, message) => {
    expect(() => loadConfig(InventoryConfig, { [name]: value })).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });
});
