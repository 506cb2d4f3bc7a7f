import { ConfigError, loadConfig } from '@lib/platform';
import { StripeLocalConfig } from './stripe-local.config';

describe('StripeLocalConfig', () => {
  it('listens on 12111 and delivers to the payment app with the dev secret by default', () => {
    expect(loadConfig(StripeLocalConfig, {})).toMatchObject({
      STRIPE_LOCAL_PORT: 12111,
      STRIPE_LOCAL_HOST: '127.0.0.1',
      STRIPE_LOCAL_CONTROL_TOKEN: 'dev-only-stripe-local-control-token',
      STRIPE_WEBHOOK_URL: 'http://127.0.0.1:3002/webhooks/stripe',
      STRIPE_WEBHOOK_SECRET: 'whsec_local_dev_secret',
      STRIPE_WEBHOOK_RETRY_DELAYS_MS: '250,1000,5000,15000',
    });
  });

  it.each([
    ['STRIPE_LOCAL_PORT', '70000', 'STRIPE_LOCAL_PORT must be between 1 and 65535'],
    ['STRIPE_WEBHOOK_URL', 'localhost:3002', 'STRIPE_WEBHOOK_URL must be an http:// URL'],
    ['STRIPE_WEBHOOK_SECRET', 'secret', 'STRIPE_WEBHOOK_SECRET must start with whsec_'],
    [
      'STRIPE_LOCAL_CONTROL_TOKEN',
      'short',
      'STRIPE_LOCAL_CONTROL_TOKEN must be at least 16 characters',
    ],
    [
      'STRIPE_WEBHOOK_RETRY_DELAYS_MS',
      '1s,5s',
      'STRIPE_WEBHOOK_RETRY_DELAYS_MS must be comma-separated milliseconds, e.g. 250,1000,5000',
    ],
  ])('rejects %s=%s naming it', (name, value, message) => {
    expect(() => loadConfig(StripeLocalConfig, { [name]: value })).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });
});
