import { DEV_STRIPE_SECRET_KEY, DEV_STRIPE_WEBHOOK_SECRET } from '../../apps/payment/src/config';
import { modeLine, usesRealStripe } from './dev-environment';

describe('dev and start:all settings', () => {
  it.each([
    ['no keys', {}, false],
    [
      'the development keys of .env.example',
      {
        STRIPE_SECRET_KEY: DEV_STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: DEV_STRIPE_WEBHOOK_SECRET,
      },
      false,
    ],
    ['a real key without its webhook secret', { STRIPE_SECRET_KEY: 'sk_test_51Real' }, false],
    [
      'a real key with the development webhook secret',
      { STRIPE_SECRET_KEY: 'sk_test_51Real', STRIPE_WEBHOOK_SECRET: DEV_STRIPE_WEBHOOK_SECRET },
      false,
    ],
    [
      'a real key and webhook secret',
      { STRIPE_SECRET_KEY: 'sk_test_51Real', STRIPE_WEBHOOK_SECRET: 'whsec_real' },
      true,
    ],
  ])('runs the local Stripe server unless real keys are set: %s', (_, env, real) => {
    expect(usesRealStripe(env)).toBe(real);
  });

  it('says which mode the apps run in', () => {
    expect(modeLine({})).toMatch(/^NODE_ENV=development: DEVELOPMENT MODE/);
    expect(modeLine({ NODE_ENV: 'test' })).toMatch(/^NODE_ENV=test: DEVELOPMENT MODE/);
    expect(modeLine({ NODE_ENV: 'production' })).toBe(
      'NODE_ENV=production: development secrets, the superuser database and plain NATS are refused',
    );
  });
});
