import { IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { IntVariable } from '@lib/platform';
import { DEV_STRIPE_WEBHOOK_SECRET } from '../../apps/payment/src/config';
import { DEV_STRIPE_LOCAL_CONTROL_TOKEN } from './control-token';
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS } from './stripe-local.server';

/** The environment of `npm run stripe:local`. */
export class StripeLocalConfig {
  @IntVariable('STRIPE_LOCAL_PORT', 1, 65535)
  STRIPE_LOCAL_PORT = 12111;

  /** Loopback by default: only this machine reaches the server and its control API. */
  @IsOptional()
  @IsString({ message: 'STRIPE_LOCAL_HOST must be a host name or address' })
  STRIPE_LOCAL_HOST = '127.0.0.1';

  /** The bearer token `/_control/` requires. */
  @IsOptional()
  @MinLength(16, { message: 'STRIPE_LOCAL_CONTROL_TOKEN must be at least 16 characters' })
  @IsString({ message: 'STRIPE_LOCAL_CONTROL_TOKEN must be a string' })
  STRIPE_LOCAL_CONTROL_TOKEN = DEV_STRIPE_LOCAL_CONTROL_TOKEN;

  @IsOptional()
  @Matches(/^http:\/\/\S+$/, { message: 'STRIPE_WEBHOOK_URL must be an http:// URL' })
  STRIPE_WEBHOOK_URL = 'http://127.0.0.1:3002/webhooks/stripe';

  @IsOptional()
  @Matches(/^whsec_\S+$/, { message: 'STRIPE_WEBHOOK_SECRET must start with whsec_' })
  STRIPE_WEBHOOK_SECRET = DEV_STRIPE_WEBHOOK_SECRET;

  @IsOptional()
  @Matches(/^\d+(,\d+)*$/, {
    message:
      'STRIPE_WEBHOOK_RETRY_DELAYS_MS must be comma-separated milliseconds, e.g. 250,1000,5000',
  })
  STRIPE_WEBHOOK_RETRY_DELAYS_MS = DEFAULT_WEBHOOK_RETRY_DELAYS_MS.join(',');
}
