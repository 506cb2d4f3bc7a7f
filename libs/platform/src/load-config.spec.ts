import { BaseConfig } from './base.config';
import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  it('fills defaults and converts numbers', () => {
    const config = loadConfig(BaseConfig, { NATS_MAX_DELIVER: '7' });
    expect(config.NATS_MAX_DELIVER).toBe(7);
    expect(config.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(config.DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(config.BATCH_WINDOW_MS).toBe(30);
  });

  it('sets the HTTP hardening and the rate limits by default, and takes 0 to turn a limit off', () => {
    expect(loadConfig(BaseConfig, {})).toMatchObject({
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000,
      HTTP_MAX_CONNECTIONS: 4096,
      HTTP_TRUST_PROXY_HOPS: 0,
      RATE_LIMIT_WINDOW_MS: 1000,
      RATE_LIMIT_IP_READS: 4000,
      RATE_LIMIT_IP_WRITES: 2000,
      RATE_LIMIT_PRINCIPAL_READS: 2000,
      RATE_LIMIT_PRINCIPAL_WRITES: 1000,
    });
    const off = loadConfig(BaseConfig, { RATE_LIMIT_IP_WRITES: '0', METRICS_PORT: '9464' });
    expect(off.RATE_LIMIT_IP_WRITES).toBe(0);
    expect(off.METRICS_PORT).toBe(9464);
  });

  it.each([
    ['NATS_URL', 'localhost:4222', 'NATS_URL must be a comma-separated list of nats://host:port'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL must look like postgres://user@host:5432/db'],
    ['NATS_MAX_DELIVER', 'three', 'NATS_MAX_DELIVER must be an integer'],
    ['PORT', '70000', 'PORT must be between 1 and 65535'],
    ['BATCH_WINDOW_MS', '-1', 'BATCH_WINDOW_MS must be between 0 and 1000'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace'],
    ['HTTP_HEADERS_TIMEOUT_MS', '500', 'HTTP_HEADERS_TIMEOUT_MS must be at least 1000'],
    [
      'HTTP_HEADERS_TIMEOUT_MS',
      '40000',
      'HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS',
    ],
    ['HTTP_REQUEST_TIMEOUT_MS', 'soon', 'HTTP_REQUEST_TIMEOUT_MS must be an integer'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '0', 'HTTP_KEEP_ALIVE_TIMEOUT_MS must be at least 1000'],
    ['HTTP_MAX_CONNECTIONS', '0', 'HTTP_MAX_CONNECTIONS must be at least 1'],
    ['HTTP_TRUST_PROXY_HOPS', '11', 'HTTP_TRUST_PROXY_HOPS must be between 0 and 10'],
    ['RATE_LIMIT_WINDOW_MS', '10', 'RATE_LIMIT_WINDOW_MS must be at least 100'],
    ['RATE_LIMIT_IP_READS', '-1', 'RATE_LIMIT_IP_READS must be at least 0'],
    ['RATE_LIMIT_IP_WRITES', 'many', 'RATE_LIMIT_IP_WRITES must be an integer'],
    ['RATE_LIMIT_PRINCIPAL_READS', '1.5', 'RATE_LIMIT_PRINCIPAL_READS must be an integer'],
    ['RATE_LIMIT_PRINCIPAL_WRITES', '-5', 'RATE_LIMIT_PRINCIPAL_WRITES must be at least 0'],
    ['METRICS_PORT', '0', 'METRICS_PORT must be between 1 and 65535'],
  ])('rejects a malformed %s with one line naming it', (name, value, message) => {
    expect(() => loadConfig(BaseConfig, { [name]: value })).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });
});

describe('METRICS_PORT', () => {
  it('must differ from the app port', () => {
    expect(() => loadConfig(BaseConfig, { PORT: '3001', METRICS_PORT: '3001' })).toThrow(
      new ConfigError('Invalid configuration: METRICS_PORT must differ from PORT'),
    );
  });

  it.each([
    [{ NATS_USER: 'order', NATS_NKEY_SEED: 'SUAM' }, 'choose one of NATS_USER, NATS_NKEY_SEED'],
    [
      { NATS_NKEY_SEED: 'SUAM', NATS_CREDS: '/run/order.creds' },
      'choose one of NATS_NKEY_SEED, NATS_CREDS',
    ],
    [{ NATS_PASSWORD: 'secret' }, 'NATS_PASSWORD needs NATS_USER'],
    [{ NATS_TLS_CERT: '/tmp/cert.pem' }, 'NATS_TLS_CERT and NATS_TLS_KEY go together'],
    [{ NATS_TLS_KEY: '/tmp/key.pem' }, 'NATS_TLS_CERT and NATS_TLS_KEY go together'],
    [{ NATS_NKEY_SEED: 'not-a-seed' }, 'NATS_NKEY_SEED must be a user nkey seed (SU...)'],
  ])('rejects the NATS identity %j with one line naming the variables', (env, message) => {
    expect(() => loadConfig(BaseConfig, env)).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });
});
