import Stripe from 'stripe';
import { spawnScript } from '../../tests/harness/app-process';
import { freePort } from '../../tests/harness/nats-server';
import { eventually } from '../../tests/harness/wait';

/** `npm run stripe:local` as a process: what developers and the demo run. */
function runMain(env: Record<string, string>) {
  const main = spawnScript('tools/stripe-local/main.ts', env);
  return { ...main, stdout: () => main.output().stdout, stderr: () => main.output().stderr };
}

describe('npm run stripe:local', () => {
  it('serves the SDK on STRIPE_LOCAL_PORT, logs JSON lines and stops on SIGTERM', async () => {
    const port = await freePort();
    const main = runMain({ STRIPE_LOCAL_PORT: String(port) });
    try {
      await eventually(
        () => main.stdout().includes('stripe-local listening') || main.child.exitCode !== null,
        {
          timeoutMs: 30_000,
          what: 'stripe-local to listen',
        },
      );
      const stripe = new Stripe('sk_test_main', { host: '127.0.0.1', port, protocol: 'http' });

      const intent = await stripe.paymentIntents.create({ amount: 100, currency: 'usd' });

      expect(intent.status).toBe('requires_payment_method');
      // The log line travels through a pipe: it may arrive after the HTTP answer.
      const logged = await eventually(
        () =>
          main
            .stdout()
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .find((line) => line.msg === 'api request'),
        { what: 'the api request log line' },
      );
      expect(logged).toMatchObject({
        service: 'stripe-local',
        level: 'info',
        method: 'POST',
        path: '/v1/payment_intents',
        status: 200,
      });
    } finally {
      main.child.kill('SIGTERM');
    }
    expect(await main.exited).toBe(0);
  });

  it('guards the control API with STRIPE_LOCAL_CONTROL_TOKEN', async () => {
    const port = await freePort();
    const token = 'the-token-of-this-machine';
    const main = runMain({ STRIPE_LOCAL_PORT: String(port), STRIPE_LOCAL_CONTROL_TOKEN: token });
    try {
      await eventually(
        () => main.stdout().includes('stripe-local listening') || main.child.exitCode !== null,
        { timeoutMs: 30_000, what: 'stripe-local to listen' },
      );
      const url = `http://127.0.0.1:${port}/_control/requests`;
      expect((await fetch(url)).status).toBe(401);
      const allowed = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toEqual({ requests: [] });
    } finally {
      main.child.kill('SIGTERM');
    }
    expect(await main.exited).toBe(0);
  });

  it('exits 1 naming a bad variable', async () => {
    const main = runMain({ STRIPE_WEBHOOK_SECRET: 'not-a-secret' });

    expect(await main.exited).toBe(1);
    expect(main.stderr()).toContain('STRIPE_WEBHOOK_SECRET must start with whsec_');
  });
});
