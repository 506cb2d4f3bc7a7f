import 'reflect-metadata';
import { createLogger } from '@lib/observability';
import { loadConfig } from '@lib/platform';
import { StripeLocalConfig } from './stripe-local.config';
import { startStripeLocal } from './stripe-local.server';

/** `npm run stripe:local`: the local Stripe for development and the demo. */
async function main(): Promise<void> {
  const config = loadConfig(StripeLocalConfig);
  const logger = createLogger('stripe-local');
  const server = await startStripeLocal({
    port: config.STRIPE_LOCAL_PORT,
    host: config.STRIPE_LOCAL_HOST,
    webhookUrl: config.STRIPE_WEBHOOK_URL,
    webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    webhookRetryDelaysMs: config.STRIPE_WEBHOOK_RETRY_DELAYS_MS.split(',').map(Number),
    controlToken: config.STRIPE_LOCAL_CONTROL_TOKEN,
    logger,
  });
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`stripe-local: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
