import 'reflect-metadata';
import { ok, OrderView, platformClients, waitForOrder } from '@lib/client';
import { eventually } from '../../tests/harness/wait';
import { mintDevelopmentToken } from '../cli/token.command';
import { StripeLocalClient } from '../stripe-local/stripe-local.client';
import { DevEnvironment, devEnvironment, loadDotEnv } from './dev-environment';

/*
 * npm run demo: against a platform started by `npm run dev`, places three orders the way a
 * storefront would (a card that pays, a card that is declined, a product that is sold out), pays
 * through the local Stripe-compatible server, and prints how each saga ended. It calls the apps
 * through the typed client (libs/client) as the shopper, with a development token it mints (the
 * shopper reads its own order and payment). Exits 1 when a saga ends anywhere but where it should.
 */
const SHOPPER = 'demo-shopper';
interface Scenario {
  name: string;
  sku: string;
  /** The test card the shopper pays with; none when the saga must stop before payment. */
  card?: string;
  expected: string;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'pays with 4242 4242 4242 4242',
    sku: 'DEMO-TEE',
    card: '4242424242424242',
    expected: 'COMPLETED',
  },
  {
    name: 'card declined (4000 0000 0000 0002)',
    sku: 'DEMO-MUG',
    card: '4000000000000002',
    expected: 'CANCELLED',
  },
  { name: 'product sold out', sku: 'DEMO-SOLD-OUT', expected: 'CANCELLED' },
];

type Shopper = ReturnType<typeof platformClients>;

async function main(): Promise<number> {
  loadDotEnv();
  const env = devEnvironment();
  const health = await fetch(`${env.appUrls.order}/health/ready`).catch(() => undefined);
  if (health?.status !== 200) {
    process.stderr.write(
      `demo: the order app does not answer at ${env.appUrls.order}; start the platform with \`npm run dev\` first\n`,
    );
    return 1;
  }
  const { token } = await mintDevelopmentToken({ sub: SHOPPER, roles: ['customer'] }, 600);
  const shopper = platformClients(env.appUrls, { token });
  const results = await Promise.all(SCENARIOS.map((scenario) => run(env, shopper, scenario)));
  for (const { scenario, order } of results) {
    const path = order.saga.steps.map((step) => step.to).join(' → ');
    process.stdout.write(
      `${order.saga.state === scenario.expected ? 'ok  ' : 'FAIL'} ${scenario.name}\n` +
        `     order ${order.orderId}: ${order.status}, saga ${order.saga.state}` +
        `${order.saga.reason ? ` (${order.saga.reason})` : ''}, total ${order.totalMinor ?? '-'} ${order.currency}\n` +
        `     ${path}\n`,
    );
  }
  return results.every(({ scenario, order }) => order.saga.state === scenario.expected) ? 0 : 1;
}

async function run(
  env: DevEnvironment,
  shopper: Shopper,
  scenario: Scenario,
): Promise<{ scenario: Scenario; order: OrderView }> {
  const { orderId } = await ok(
    shopper.order.POST('/orders', { body: { items: [{ sku: scenario.sku, quantity: 1 }] } }),
  );
  if (scenario.card) await pay(env, shopper, orderId, scenario.card);
  const order = await waitForOrder(shopper.order, orderId, { timeoutMs: 60_000, intervalMs: 200 });
  return { scenario, order };
}

/** What the storefront does: wait for the order's PaymentIntent, then confirm it with a card. */
async function pay(
  env: DevEnvironment,
  shopper: Shopper,
  orderId: string,
  card: string,
): Promise<void> {
  const paymentIntentId = await eventually(
    async () => {
      const { data } = await shopper.payment.GET('/payments/{orderId}', {
        params: { path: { orderId } },
      });
      return data?.paymentIntentId ?? undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `the PaymentIntent of order ${orderId}` },
  );
  await new StripeLocalClient(env.stripeLocalUrl, env.stripeLocalControlToken).confirm(
    paymentIntentId,
    card,
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
