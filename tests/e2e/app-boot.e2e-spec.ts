import { jetstreamManager } from '@nats-io/jetstream';
import { DEV_AUTH_JWT_SECRET } from '@lib/platform';
import { freshSchema, query, TEST_DATABASE_URL } from '../harness/database';
import { spawnApp, startAppProcess } from '../harness/app-process';
import { startNatsServer, TestNatsServer } from '../harness/nats-server';

const APPS = ['order', 'payment', 'inventory', 'trading'];

/** Metrics an app serves besides the ones every app has. */
const OWN_METRICS: Record<string, string[]> = {
  order: [
    'saga_started_total',
    'saga_completed_total',
    'saga_compensated_total',
    'saga_failed_total',
    'saga_duration_seconds',
    'sagas_in_flight',
  ],
  payment: [
    'payment_intents_created_total',
    'payments_succeeded_total',
    'payments_failed_total',
    'stripe_webhooks_total',
    'stripe_request_seconds',
    'stripe_circuit_state',
  ],
  inventory: [
    'reservations_active',
    'reservations_expired_total',
    'inventory_reserved_total',
    'inventory_released_total',
    'stock_low_alerts_total',
  ],
  trading: [
    'strategies_live',
    'trading_orders_sent_total',
    'trading_orders_rejected_total',
    'trading_fills_total',
    'pnl_estimated',
  ],
};

describe('every app boots as its own process', () => {
  let nats: TestNatsServer;
  let env: Record<string, string>;
  /** An app's environment: as itself on the suite's NATS. */
  const envOf = (app: string) => ({ ...env, ...nats.env(app) });

  beforeAll(async () => {
    nats = await startNatsServer();
    env = { DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'info' };
  });

  afterAll(async () => {
    await nats?.destroy();
  });

  it.each(APPS)(
    '%s serves health and metrics, logs JSON, and stops cleanly on SIGTERM',
    async (app) => {
      const running = await startAppProcess(app, envOf(app));
      try {
        const live = await fetch(`${running.url}/health/live`);
        expect(live.status).toBe(200);
        const ready = await fetch(`${running.url}/health/ready`);
        expect(await ready.json()).toMatchObject({
          status: 'ok',
          info: { database: { status: 'up' }, nats: { status: 'up' } },
        });
        const metrics = await (await fetch(`${running.url}/metrics`)).text();
        for (const name of [
          'events_consumed_total',
          'event_handler_seconds',
          'outbox_pending',
          'outbox_publish_lag_seconds',
          'dlq_messages_total',
          'events_published_total',
          'process_cpu_user_seconds_total',
          ...(OWN_METRICS[app] ?? []),
        ]) {
          expect(metrics).toContain(`# TYPE ${name}`);
        }
        const firstLine = JSON.parse(running.stdout().split('\n')[0]!);
        expect(firstLine).toMatchObject({ service: app, level: expect.any(String) });
      } finally {
        expect(await running.stop()).toBe(0);
      }
    },
    90_000,
  );

  it('stops once and cleanly when SIGINT and SIGTERM arrive together (Ctrl-C under npm run dev)', async () => {
    const running = await startAppProcess('inventory', envOf('inventory'));
    running.child.kill('SIGINT');
    expect(await running.stop()).toBe(0);
    expect(running.stderr()).not.toContain('shutdown failed');
  });

  it('with --setup-only migrates its schema and applies the streams, then exits', async () => {
    await freshSchema('orders');
    const setupNats = await startNatsServer();
    try {
      const { exited } = spawnApp('order', { ...env, ...setupNats.env('order') }, ['--setup-only']);
      expect(await exited).toBe(0);
      const migrations = await query<{ name: string }>(
        'SELECT name FROM orders.migrations ORDER BY id',
      );
      expect(migrations.map((m) => m.name)).toEqual([
        'MessagingTables1763800000000',
        'OrderTables1763900000000',
        'EdgeTables1764800000000',
        'OrderTenancy1764900000000',
      ]);
      const nc = await setupNats.connect();
      const streams = await (await jetstreamManager(nc)).streams.names().next();
      await nc.close();
      // The streams the order app publishes to or reads from; TRADING is none of its business.
      expect([...streams].sort()).toEqual(['DLQ', 'INVENTORY', 'ORDERS', 'PAYMENTS']);
    } finally {
      await setupNats.destroy();
    }
  }, 60_000);

  describe('with NODE_ENV=production', () => {
    /** Production settings of everything but the token verifier, so the boot reaches its check. */
    const production = (app: string): Record<string, string> => ({
      ...envOf(app),
      NODE_ENV: 'production',
      ...(app === 'payment' && {
        STRIPE_SECRET_KEY: 'sk_live_51Hboot0test0only0not0a0real0key',
        STRIPE_WEBHOOK_SECRET: 'whsec_boot_test_only_not_a_real_secret',
      }),
    });

    it.each(APPS)('%s refuses the development token secret, in one line', async (app) => {
      const { output, exited } = spawnApp(app, {
        ...production(app),
        AUTH_JWT_SECRET: DEV_AUTH_JWT_SECRET,
      });
      expect(await exited).toBe(1);
      expect(output().stderr.trim()).toBe(
        `${app}: Invalid configuration: AUTH_JWT_SECRET is the development secret: set your own, or AUTH_JWKS_URL, in production`,
      );
    });

    it.each(APPS)('%s refuses to start without a token verifier, in one line', async (app) => {
      expect(process.env.AUTH_JWT_SECRET ?? process.env.AUTH_JWKS_URL).toBeUndefined();
      const { output, exited } = spawnApp(app, production(app));
      expect(await exited).toBe(1);
      expect(output().stderr.trim()).toBe(
        `${app}: Invalid configuration: AUTH_JWKS_URL or AUTH_JWT_SECRET must be set in production`,
      );
    });
  });

  it('refuses to start with a malformed variable, naming it in one line', async () => {
    const { output, exited } = spawnApp('order', { ...env, NATS_URL: 'localhost:4222' });
    expect(await exited).toBe(1);
    expect(output().stderr.trim()).toBe(
      'order: Invalid configuration: NATS_URL must be a comma-separated list of nats://host:port',
    );
  }, 60_000);
});
