import { ConfigError, loadConfig } from '@lib/platform';
import { PRODUCTION_ENV } from '../../../tests/harness/production-env';
import { PaymentConfig } from './config';

describe('PaymentConfig', () => {
  it('talks to the local Stripe defaults with automatic capture, timeouts and retries by default', () => {
    expect(loadConfig(PaymentConfig, {})).toMatchObject({
      PORT: 3002,
      STRIPE_SECRET_KEY: 'sk_test_local',
      STRIPE_WEBHOOK_SECRET: 'whsec_local_dev_secret',
      STRIPE_API_HOST: undefined,
      STRIPE_TIMEOUT_MS: 10_000,
      STRIPE_MAX_NETWORK_RETRIES: 2,
      STRIPE_CAPTURE_METHOD: 'automatic',
      STRIPE_BREAKER_FAILURES: 5,
      STRIPE_BREAKER_OPEN_MS: 30_000,
      PAYMENT_REQUEST_MAX_AGE_MS: 23 * 3600_000,
    });
  });

  it('points the SDK at a local server', () => {
    expect(
      loadConfig(PaymentConfig, {
        STRIPE_API_HOST: 'localhost',
        STRIPE_API_PORT: '12111',
        STRIPE_API_PROTOCOL: 'http',
        STRIPE_CAPTURE_METHOD: 'manual',
      }),
    ).toMatchObject({
      STRIPE_API_HOST: 'localhost',
      STRIPE_API_PORT: 12111,
      STRIPE_API_PROTOCOL: 'http',
      STRIPE_CAPTURE_METHOD: 'manual',
    });
  });

  const production = {
    ...PRODUCTION_ENV,
    STRIPE_SECRET_KEY: 'sk_live_abc123',
    STRIPE_WEBHOOK_SECRET: 'whsec_abc123',
  };

  it('accepts real keys in production', () => {
    expect(loadConfig(PaymentConfig, production)).toMatchObject(production);
  });

  it('accepts api.stripe.com over https in production', () => {
    const env = { ...production, STRIPE_API_HOST: 'api.stripe.com', STRIPE_API_PROTOCOL: 'https' };
    expect(loadConfig(PaymentConfig, env)).toMatchObject(env);
  });

  it.each([
    [{ STRIPE_API_PROTOCOL: 'http' }, 'STRIPE_API_PROTOCOL must not be http in production'],
    [
      { STRIPE_API_HOST: 'stripe-local' },
      'STRIPE_API_HOST must be api.stripe.com (or unset) in production',
    ],
    [{ STRIPE_SECRET_KEY: 'sk_test_local' }, 'STRIPE_SECRET_KEY must be set in production'],
    [
      { STRIPE_WEBHOOK_SECRET: 'whsec_local_dev_secret' },
      'STRIPE_WEBHOOK_SECRET must be set in production',
    ],
  ])('refuses %j in production, naming the variable', (env, message) => {
    expect(() => loadConfig(PaymentConfig, { ...production, ...env })).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });

  it.each([
    [{ NODE_ENV: 'production' }, 'STRIPE_SECRET_KEY must be set in production'],
    [
      { NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_abc' },
      'STRIPE_WEBHOOK_SECRET must be set in production',
    ],
    [
      { STRIPE_SECRET_KEY: 'pk_test_abc' },
      'STRIPE_SECRET_KEY must be a Stripe secret key (sk_test_..., sk_live_...)',
    ],
    [
      { STRIPE_WEBHOOK_SECRET: 'secret' },
      'STRIPE_WEBHOOK_SECRET must be a webhook secret (whsec_...)',
    ],
    [{ STRIPE_API_PROTOCOL: 'ftp' }, 'STRIPE_API_PROTOCOL must be http or https'],
    [{ STRIPE_API_PORT: '0' }, 'STRIPE_API_PORT must be between 1 and 65535'],
    [{ STRIPE_CAPTURE_METHOD: 'later' }, 'STRIPE_CAPTURE_METHOD must be automatic or manual'],
    [{ STRIPE_BREAKER_FAILURES: '0' }, 'STRIPE_BREAKER_FAILURES must be at least 1'],
    [{ STRIPE_MAX_NETWORK_RETRIES: '11' }, 'STRIPE_MAX_NETWORK_RETRIES must be between 0 and 10'],
    // Past Stripe's idempotency window (24 h) a request could create a second PaymentIntent.
    [
      { PAYMENT_REQUEST_MAX_AGE_MS: String(25 * 3600_000) },
      'PAYMENT_REQUEST_MAX_AGE_MS must be between 1000 and 86400000',
    ],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => loadConfig(PaymentConfig, env)).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });
});
