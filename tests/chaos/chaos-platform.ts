import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { NatsConnection } from '@nats-io/nats-core';
import { urlAs } from '@lib/persistence';
import { Pool } from 'pg';
import {
  devAppDatabaseUrl,
  devConsoleDatabaseUrl,
  devLogin,
  ensureDevRoles,
  SCHEMA_OWNER,
} from '../../infra/postgres/app-roles';
import { StripeLocalClient } from '../../tools/stripe-local/stripe-local.client';
import { startStripeLocal, StripeLocal } from '../../tools/stripe-local/stripe-local.server';
import { RATE_LIMITS_OFF } from '../bench/stats';
import { AppProcess, startAppProcess } from '../harness/app-process';
import { freePort, startNatsServer, TestNatsServer } from '../harness/nats-server';
import { startPostgresCluster, TestPostgresCluster } from '../harness/postgres-cluster';
import { asMerchant } from '../harness/tokens';
import { eventually } from '../harness/wait';
import { ChaosConfig } from './chaos.config';

export const APPS = ['order', 'inventory', 'payment', 'trading', 'console'] as const;
export type AppName = (typeof APPS)[number];

export const WEBHOOK_SECRET = 'whsec_chaos';

/** What every app process said during the run, one file per process (CI keeps `artifacts/`). */
export const CHAOS_LOGS_DIR = join(__dirname, '..', '..', 'artifacts', 'chaos');

/**
 * Everything the suite breaks, each a process of its own: a Postgres cluster made for the run, a
 * nats-server with the generated users, the four apps and the console (each as its own Postgres
 * and NATS user),
 * and stripe-local (in the suite's process: it plays Stripe, which the suite also breaks).
 * An app, Postgres or nats-server that exits without the suite killing it is a crash.
 */
export class ChaosPlatform {
  readonly apps = {} as Record<AppName, AppProcess>;
  readonly crashes: string[] = [];
  /** Every process started, the killed ones included, for their logs. */
  private readonly started: { app: AppName; process: AppProcess }[] = [];
  stripe!: StripeLocalClient;
  /** The suite's own view of the data: the superuser of the run's cluster. */
  db!: Pool;
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  private stripeLocal?: StripeLocal;
  private readonly killed = new Set<AppProcess>();

  private constructor(
    private readonly config: ChaosConfig,
    readonly postgres: TestPostgresCluster,
    readonly nats: TestNatsServer,
    private readonly ports: Record<AppName, number>,
  ) {}

  static async start(config: ChaosConfig): Promise<ChaosPlatform> {
    const [postgres, nats] = await Promise.all([
      startPostgresCluster('saga_chaos'),
      startNatsServer(),
    ]);
    // A port just freed can be handed out again: the four must be distinct.
    const ports = new Set<number>();
    while (ports.size < APPS.length) ports.add(await freePort());
    const portOf = Object.fromEntries(APPS.map((app, i) => [app, [...ports][i]!]));
    const platform = new ChaosPlatform(config, postgres, nats, portOf as Record<AppName, number>);
    try {
      await ensureDevRoles(postgres.url);
      platform.db = new Pool({ connectionString: postgres.url, max: 4 });
      // An idle connection dies with Postgres; the next query opens another.
      platform.db.on('error', () => undefined);
      platform.stripeLocal = await startStripeLocal({
        webhookSecret: WEBHOOK_SECRET,
        // Stripe retries for days; here long enough to outlive any restart of the payment app.
        webhookRetryDelaysMs: [500, 2000, 5000, 10_000, 20_000, 30_000],
      });
      platform.stripe = new StripeLocalClient(platform.stripeLocal.url);
      await Promise.all(APPS.map((app) => platform.startApp(app)));
      await platform.stripe.setWebhookEndpoint(
        `${platform.url('payment')}/webhooks/stripe`,
        WEBHOOK_SECRET,
      );
      const operator = await nats.operator();
      platform.nc = operator.nc;
      platform.jsm = await jetstreamManager(platform.nc);
      return platform;
    } catch (error) {
      await platform.stop();
      throw error;
    }
  }

  url(app: AppName): string {
    return `http://127.0.0.1:${this.ports[app]}`;
  }

  /** Boots the app on its port and waits until it is ready. */
  async startApp(app: AppName): Promise<void> {
    const started = await startAppProcess(app, this.appEnv(app), { port: this.ports[app] });
    started.child.once('exit', (code, signal) => {
      if (this.killed.has(started)) return;
      const said = `${started.stdout()}${started.stderr()}`.slice(-2000);
      this.crashes.push(`${app} exited (${code ?? signal}) on its own; it said:\n${said}`);
    });
    this.apps[app] = started;
    this.started.push({ app, process: started });
  }

  /** `kill -9`: no shutdown hook runs. Resolves once the process is gone. */
  async killApp(app: AppName): Promise<void> {
    const running = this.apps[app];
    this.killed.add(running);
    running.child.kill('SIGKILL');
    await running.stop();
  }

  /** Resolves once every app answers /health/ready with 200 (database and NATS reachable). */
  async untilReady(timeoutMs = 120_000): Promise<void> {
    await eventually(
      async () => {
        const answers = await Promise.all(
          APPS.map((app) =>
            fetch(`${this.url(app)}/health/ready`, { signal: AbortSignal.timeout(2000) })
              .then((res) => res.status)
              .catch(() => 0),
          ),
        );
        return answers.every((status) => status === 200);
      },
      { timeoutMs, intervalMs: 100, what: 'every app to be ready' },
    );
  }

  async putProduct(sku: string, stock: number, priceMinor: number): Promise<void> {
    const res = await fetch(`${this.url('inventory')}/inventory/products/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(await asMerchant()) },
      body: JSON.stringify({
        name: `Chaos ${sku}`,
        priceMinor,
        currency: 'EUR',
        stock,
        lowStockThreshold: 0,
      }),
    });
    if (res.status !== 200)
      throw new Error(`PUT product ${sku}: ${res.status} ${await res.text()}`);
  }

  /** Stops everything; an app that does not stop within 10 s of SIGTERM is killed, and said so. */
  async stop(): Promise<void> {
    for (const app of APPS) {
      const running = this.apps[app];
      if (!running) continue;
      this.killed.add(running);
      const stopped = running.stop();
      const late = setTimeout(() => {
        process.stdout.write(`${app} did not stop within 10 s of SIGTERM: killed\n`);
        running.child.kill('SIGKILL');
      }, 10_000);
      await stopped;
      clearTimeout(late);
    }
    this.writeLogs();
    await this.stripeLocal?.stop();
    await this.db?.end().catch(() => undefined);
    await this.nats.destroy();
    await this.postgres.destroy();
  }

  private writeLogs(): void {
    mkdirSync(CHAOS_LOGS_DIR, { recursive: true });
    const runs = new Map<AppName, number>();
    for (const { app, process } of this.started) {
      const run = (runs.get(app) ?? 0) + 1;
      runs.set(app, run);
      writeFileSync(
        join(CHAOS_LOGS_DIR, `${app}.${run}.log`),
        `${process.stdout()}${process.stderr()}`,
      );
    }
  }

  private appEnv(app: AppName): Record<string, string> {
    const { deadlines } = this.config;
    const perApp: Record<AppName, Record<string, string>> = {
      order: {
        SAGA_STOCK_TIMEOUT_MS: String(deadlines.stockMs),
        SAGA_PAYMENT_TIMEOUT_MS: String(deadlines.paymentMs),
        SAGA_COMPENSATION_TIMEOUT_MS: String(deadlines.compensationMs),
      },
      inventory: {},
      payment: {
        STRIPE_SECRET_KEY: 'sk_test_chaos',
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        ...this.stripeLocal!.sdkEnv,
        // Probes Stripe soon after an outage instead of 30 s later.
        STRIPE_BREAKER_OPEN_MS: '2000',
        // Settles what a compensation left open within a phase's settling time.
        PAYMENT_RECONCILE_INTERVAL_MS: '10000',
      },
      trading: {},
      console: {
        ORDER_API_URL: this.url('order'),
        PAYMENT_API_URL: this.url('payment'),
        INVENTORY_API_URL: this.url('inventory'),
      },
    };
    // The console has no schema: it writes only its audit records, as its own role.
    const database: Record<string, string> =
      app === 'console'
        ? { DATABASE_URL: devConsoleDatabaseUrl(this.postgres.url) }
        : {
            DATABASE_URL: devAppDatabaseUrl(this.postgres.url, app),
            DATABASE_MIGRATION_URL: urlAs(this.postgres.url, devLogin(SCHEMA_OWNER)),
          };
    return {
      ...database,
      ...this.nats.env(app),
      // A message in flight when its consumer is killed comes back after the ack wait: 10 s here
      // (30 s by default), so that the saga's short deadlines here stay twice as long.
      NATS_ACK_WAIT_MS: '10000',
      NATS_RETRY_BASE_MS: '100',
      OUTBOX_POLL_MS: '200',
      OUTBOX_RELAY_AFTER_MS: '1000',
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
      // The storefront is a handful of principals on one address, far past a real client's limits.
      ...RATE_LIMITS_OFF,
      ...perApp[app],
    };
  }
}
