import { IsIn, IsOptional, Matches } from 'class-validator';
import { BaseConfig, CheckedWith, IntVariable } from '@lib/platform';

/** Local defaults: they only work against stripe-local (`npm run stripe:local` uses the same secret). */
export const DEV_STRIPE_SECRET_KEY = 'sk_test_local';
export const DEV_STRIPE_WEBHOOK_SECRET = 'whsec_local_dev_secret';

export type CaptureMethod = 'automatic' | 'manual';

/** A secret whose local default is refused when NODE_ENV is production. */
const SetInProduction = (name: string, localDefault: string) =>
  CheckedWith<PaymentConfig>('setInProduction', (config, value) =>
    config.NODE_ENV === 'production' && value === localDefault
      ? `${name} must be set in production`
      : undefined,
  );

/** A local-only setting (stripe-local's host, plain http) is refused when NODE_ENV is production. */
const LocalOnly = (allowed: (value: unknown) => boolean, message: string) =>
  CheckedWith<PaymentConfig>('localOnly', (config, value) =>
    config.NODE_ENV === 'production' && !allowed(value) ? message : undefined,
  );

const STRIPE_API = 'api.stripe.com';

export class PaymentConfig extends BaseConfig {
  override PORT = 3002;

  @SetInProduction('STRIPE_SECRET_KEY', DEV_STRIPE_SECRET_KEY)
  @Matches(/^(sk|rk)_(test|live)_\S+$/, {
    message: 'STRIPE_SECRET_KEY must be a Stripe secret key (sk_test_..., sk_live_...)',
  })
  STRIPE_SECRET_KEY = DEV_STRIPE_SECRET_KEY;

  @SetInProduction('STRIPE_WEBHOOK_SECRET', DEV_STRIPE_WEBHOOK_SECRET)
  @Matches(/^whsec_\S+$/, { message: 'STRIPE_WEBHOOK_SECRET must be a webhook secret (whsec_...)' })
  STRIPE_WEBHOOK_SECRET = DEV_STRIPE_WEBHOOK_SECRET;

  /** With no override the SDK talks to api.stripe.com; set all three for a local server. */
  @LocalOnly(
    (host) => host === undefined || host === STRIPE_API,
    `STRIPE_API_HOST must be ${STRIPE_API} (or unset) in production`,
  )
  @IsOptional()
  @Matches(/^[\w.-]+$/, { message: 'STRIPE_API_HOST must be a host name' })
  STRIPE_API_HOST?: string = undefined;

  @IntVariable('STRIPE_API_PORT', 1, 65535)
  STRIPE_API_PORT?: number = undefined;

  @LocalOnly(
    (protocol) => protocol !== 'http',
    'STRIPE_API_PROTOCOL must not be http in production',
  )
  @IsOptional()
  @IsIn(['http', 'https'], { message: 'STRIPE_API_PROTOCOL must be http or https' })
  STRIPE_API_PROTOCOL?: 'http' | 'https' = undefined;

  /** Per request; a slow Stripe fails the attempt, and the message is retried with back-off. */
  @IntVariable('STRIPE_TIMEOUT_MS', 100)
  STRIPE_TIMEOUT_MS = 10_000;

  /** The SDK's own retries of connection errors and 5xx, with the same Idempotency-Key. */
  @IntVariable('STRIPE_MAX_NETWORK_RETRIES', 0, 10)
  STRIPE_MAX_NETWORK_RETRIES = 2;

  /** `manual` authorizes on request and captures on `order.confirmed`. */
  @IsOptional()
  @IsIn(['automatic', 'manual'], { message: 'STRIPE_CAPTURE_METHOD must be automatic or manual' })
  STRIPE_CAPTURE_METHOD: CaptureMethod = 'automatic';

  /** Consecutive Stripe outages (5xx, timeouts, connection errors) that open the circuit. */
  @IntVariable('STRIPE_BREAKER_FAILURES', 1)
  STRIPE_BREAKER_FAILURES = 5;

  /**
   * How long the open circuit refuses calls before it probes Stripe (GET /v1/balance); the
   * consumers hold their messages until a probe succeeds.
   */
  @IntVariable('STRIPE_BREAKER_OPEN_MS', 100)
  STRIPE_BREAKER_OPEN_MS = 30_000;

  /**
   * The oldest payment request a PaymentIntent is still created for. Stripe keeps an idempotency
   * key about 24 hours: a request older than that (a replay, a redelivery after a long outage)
   * could create a second intent under the same key, so it fails the payment instead. Keep it below
   * 24 h.
   */
  @IntVariable('PAYMENT_REQUEST_MAX_AGE_MS', 1000, 24 * 3600_000)
  PAYMENT_REQUEST_MAX_AGE_MS = 23 * 3600_000;

  /**
   * How often the reconciliation pass settles the payments of cancelled orders that their
   * compensation left open (intent not cancelled, money not refunded) for at least this long.
   */
  @IntVariable('PAYMENT_RECONCILE_INTERVAL_MS', 100)
  PAYMENT_RECONCILE_INTERVAL_MS = 60_000;
}
