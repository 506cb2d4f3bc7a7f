import { BaseConfig } from './base.config';
import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  it('fills defaults and converts numbers', () => {
    const config = loadConfig(BaseConfig, { NATS_MAX_DELIVER: '7' });
    expect(config.NATS_MAX_DELIVER).toBe(7);
    expect(config.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(config.DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(config.BATCH_WINDOW_MS).toBe(10);
  });

  it.each([
    ['NATS_URL', 'localhost:4222', 'NATS_URL must be a comma-separated list of nats://host:port'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL must look like postgres://user@host:5432/db'],
    ['NATS_MAX_DELIVER', 'three', 'NATS_MAX_DELIVER must be an integer'],
    ['PORT', '70000', 'PORT must be between 1 and 65535'],
    ['BATCH_WINDOW_MS', '-1', 'BATCH_WINDOW_MS must be between 0 and 1000'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace'],
  ])('rejects a malformed %s with one line naming it', (name, value, message) => {
    expect(() => loadConfig(BaseConfig, { [name]: value })).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });
});
