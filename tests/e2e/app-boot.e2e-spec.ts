import { jetstreamManager } from '@nats-io/jetstream';
import { DEV_AUTH_JWT_SECRET, DEV_DATABASE_URL } from '@lib/platform';
import { urlAs } from '@lib/persistence';
import { randomUUID } from 'node:crypto';
import { appDatabaseEnv, freshSchema, query, TEST_DATABASE_URL } from '../harness/database';
import { PRODUCTION_ENV } from '../harness/production-env';
import { spawnApp, startAppProcess } from '../harness/app-process';
import { startNatsServer, TestNatsServer } from '../harness/nats-server';
import { eventually } from '../harness/wait';

const APPS = ['order', 'payment', 'inventory', 'trading'];
const SCHEMAS = ['orders', 'payments', 'inventory', 'trading'];

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
  /** An app's variables: its own NATS user, its own Postgres role, migrating as the schema owner. */
  const envOf = async (app: string) => ({
    ...env,
    ...nats.env(app),
    ...(await appDatabaseEnv(app)),
  });

  beforeAll(async () => {
    // The schema owner migrates: schemas left by other suites (made by the superuser) go first.
    await Promise.all(SCHEMAS.map(freshSchema));
    nats = await startNatsServer();
    env = { LOG_LEVEL: 'info' };
  });

  afterAll(async () => {
    await nats?.destroy();
  });

  it.each(APPS)(
    '%s serves health and metrics as its own Postgres role, logs JSON, and stops cleanly on SIGTERM',
    async (app) => {
      const running = await startAppProcess(app, await envOf(app));
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
        const sessions = await query<{ usename: string }>(
          `SELECT DISTINCT usename FROM pg_stat_activity
           WHERE datname = current_database() AND usename LIKE '%\\_app'`,
        );
        expect(sessions).toEqual([{ usename: `${app}_app` }]);
        const firstLine = JSON.parse(running.stdout().split('\n')[0]!);
        expect(firstLine).toMatchObject({ service: app, level: expect.any(String) });
      } finally {
        expect(await running.stop()).toBe(0);
      }
    },
    90_000,
  );

  it('answers 503 on /health/ready while NATS is down and logs that as a warning, not an error', async () => {
    const outage = await startNatsServer();
    const running = await startAppProcess('inventory', {
      ...(await envOf('inventory')),
      ...outage.env('inventory'),
    });
    const readiness = async () => (await fetch(`${running.url}/health/ready`)).status;
    try {
      await outage.stop();
      await eventually(async () => (await readiness()) === 503, { what: 'readiness to fail' });
      await outage.start();
      await eventually(async () => (await readiness()) === 200, { what: 'readiness to return' });
    } finally {
      expect(await running.stop()).toBe(0);
      await outage.destroy();
    }
    const healthLines = running
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"context":"HealthCheckService"'))
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(healthLines.length).toBeGreaterThan(0);
    for (const line of healthLines) {
      expect(line).toMatchObject({
        level: 'warn',
        msg: expect.stringContaining('Health Check has failed'),
      });
    }
  }, 90_000);

  it('stops once and cleanly when SIGINT and SIGTERM arrive together (Ctrl-C under npm run dev)', async () => {
    const running = await startAppProcess('inventory', await envOf('inventory'));
    running.child.kill('SIGINT');
    expect(await running.stop()).toBe(0);
    expect(running.stderr()).not.toContain('shutdown failed');
  });

  it('with --setup-only migrates its schema as the owner and applies the streams, then exits', async () => {
    await freshSchema('orders');
    const setupNats = await startNatsServer();
    try {
      const { exited } = spawnApp(
        'order',
        { ...(await envOf('order')), ...setupNats.env('order') },
        ['--setup-only'],
      );
      expect(await exited).toBe(0);
      const migrations = await query<{ name: string }>(
        'SELECT name FROM orders.migrations ORDER BY id',
      );
      expect(migrations.map((m) => m.name)).toEqual([
        'MessagingTables1763800000000',
        'OrderTables1763900000000',
        'EdgeTables1764800000000',
        'OrderTenancy1764900000000',
        'SagaPaymentIntent1765000000000',
        'OutboxWithoutNotify1765100000000',
        'OutboxTraceContext1765200000000',
        'SagaTraceContext1765200000000',
        'SagaReadModel1765300000000',
        'ProductCurrencies1765400000000',
      ]);
      const owners = await query<{ tableowner: string }>(
        `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'orders'`,
      );
      expect(owners).toEqual([{ tableowner: 'saga_owner' }]);
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
      ...env,
      ...nats.env(app),
      DATABASE_URL: DEV_DATABASE_URL,
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

    /** Production settings but the one under test, so the boot reaches its check. */
    const productionBut = (app: string, changes: Record<string, string>) => ({
      ...production(app),
      ...PRODUCTION_ENV,
      ...changes,
    });

    it.each(APPS)('%s refuses the development database URL, in one line', async (app) => {
      const { output, exited } = spawnApp(
        app,
        productionBut(app, { DATABASE_URL: DEV_DATABASE_URL }),
      );
      expect(await exited).toBe(1);
      expect(output().stderr.trim()).toBe(
        `${app}: Invalid configuration: DATABASE_URL is the development database: set the app's own role and password in production`,
      );
    });

    it('refuses an unauthenticated NATS URL, in one line', async () => {
      const { output, exited } = spawnApp(
        'inventory',
        productionBut('inventory', { NATS_USER: '', NATS_PASSWORD: '' }),
      );
      expect(await exited).toBe(1);
      expect(output().stderr.trim()).toBe(
        'inventory: Invalid configuration: NATS_URL has no credentials: set NATS_USER and NATS_PASSWORD, NATS_NKEY_SEED or NATS_CREDS in production',
      );
    });

    it('refuses a superuser database role once connected, in one line', async () => {
      // Any superuser, not only `postgres` (which the config refuses by name).
      const login = { role: `boot_superuser_${randomUUID().slice(0, 8)}`, password: 'boot-only' };
      await query(`CREATE ROLE ${login.role} SUPERUSER LOGIN PASSWORD '${login.password}'`);
      try {
        const { output, exited } = spawnApp(
          'order',
          productionBut('order', { DATABASE_URL: urlAs(TEST_DATABASE_URL, login) }),
        );
        expect(await exited).toBe(1);
        expect(output().stderr.trim()).toBe(
          `order: DATABASE_URL connects as the superuser "${login.role}": give the app its own role in production`,
        );
      } finally {
        await query(`DROP ROLE ${login.role}`);
      }
    });

    it('refuses Stripe over plain http, in one line', async () => {
      const { output, exited } = spawnApp(
        'payment',
        productionBut('payment', { STRIPE_API_PROTOCOL: 'http' }),
      );
      expect(await exited).toBe(1);
      expect(output().stderr.trim()).toBe(
        'payment: Invalid configuration: STRIPE_API_PROTOCOL must not be http in production',
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
