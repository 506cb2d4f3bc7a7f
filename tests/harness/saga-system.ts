import { jetstream, JetStreamClient, jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsConnection } from '@nats-io/nats-core';
import {
  inventoryClient,
  InventoryApi,
  InventorySchema,
  ok,
  orderClient,
  OrderApi,
  OrderView,
  paymentClient,
  PaymentApi,
  PaymentSchema,
  waitForOrder,
} from '@lib/client';
import { EventEnvelope } from '@lib/contracts';
import { StripeLocalClient } from '../../tools/stripe-local/stripe-local.client';
import { startStripeLocal, StripeLocal } from '../../tools/stripe-local/stripe-local.server';
import { AppProcess, ScriptProcess, spawnScript, startAppProcess } from './app-process';
import { appDatabaseEnv, freshSchema } from './database';
import { OPERATOR_USER } from '../../infra/nats/permissions';
import { startNatsServer, TestNatsServer } from './nats-server';
import { PaymentAnswer, PaymentResponder } from './payment-responder';
import { readStream } from './streams';
import { KeepAliveFetch } from './keep-alive-fetch';
import { MERCHANT, OPERATOR, tokenFor } from './tokens';
import { eventually } from './wait';

export type { OrderView };
export type ProductView = InventorySchema<'ProductView'>;
export type ReservationView = InventorySchema<'ReservationView'>;
export type PaymentView = PaymentSchema<'PaymentView'>;
export type OrderLine = { sku: string; quantity: number };

export interface SagaSystemOptions {
  order?: Record<string, string>;
  inventory?: Record<string, string>;
  /** How the stand-in payment participant answers each order's payment request. */
  payment?: (orderId: string) => PaymentAnswer | Promise<PaymentAnswer>;
  /**
   * Runs the payment app as a process against stripe-local, with these extra variables, instead
   * of the stand-in: the customer then pays through `stripe.confirm()`.
   */
  paymentApp?: Record<string, string>;
  /**
   * Runs the stand-in payment participant, answering every request with success, as a process of
   * its own: a benchmark's timings then do not wait on its work.
   */
  paymentProcess?: boolean;
  /**
   * Runs the order app as two processes, as production would: `order` serves HTTP only
   * (ORDER_ROLE=api) and `orderWorker` runs the saga (ORDER_ROLE=worker).
   */
  splitOrder?: boolean;
  /** At most this many connections for `placeOrder` (a bench's concurrency); unlimited by default. */
  orderConnections?: number;
  /**
   * Runs on these NATS servers (comma-separated, as NATS_URL takes them: a cluster the suite
   * starts and stops itself) instead of a private nats-server.
   */
  natsUrls?: string;
  /** Runs the private nats-server in operator mode: each app connects with a `.creds` file (NATS_CREDS). */
  natsAccounts?: boolean;
}

const WEBHOOK_SECRET = 'whsec_saga_system';

/**
 * The order and inventory apps (and the payment app with stripe-local, when asked) as separate
 * processes on a private nats-server and fresh schemas of the test database, plus a NATS
 * connection for the test to watch and publish with.
 */
export class SagaSystem {
  /** The order app; with `splitOrder`, its HTTP process. */
  order!: AppProcess;
  /** With `splitOrder`, the order app's saga worker. */
  orderWorker?: AppProcess;
  inventory!: AppProcess;
  payment?: AppProcess;
  stripeLocal?: StripeLocal;
  /** stripe-local's control API: confirm as the storefront would, faults, webhook delivery modes. */
  stripe?: StripeLocalClient;
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  /** The stand-in payment participant; not started when the payment app runs. */
  responder!: PaymentResponder;
  /** The stand-in payment participant when it runs as a process (`paymentProcess`). */
  responderProcess?: ScriptProcess;

  /** The connections `placeOrder` sends on (a bench's load). */
  private readonly connections: KeepAliveFetch;
  /** The NATS_URL every process of the system gets. */
  readonly natsUrl: string;

  private constructor(
    private readonly ownNats: TestNatsServer | undefined,
    private readonly options: SagaSystemOptions,
  ) {
    this.connections = new KeepAliveFetch(options.orderConnections);
    this.natsUrl = ownNats?.url ?? options.natsUrls ?? '';
  }

  /**
   * The NATS variables of one user: on the private server its own user (with the permissions of
   * the generated configuration); on the servers of `natsUrls`, which run without users, the URLs.
   */
  natsEnv(user: string): Record<string, string> {
    return this.ownNats ? this.ownNats.env(user) : { NATS_URL: this.natsUrl };
  }

  /** The test's own connection, as the operator. */
  private connectNats(): Promise<NatsConnection> {
    return this.ownNats ? this.ownNats.connect() : connect({ servers: this.natsUrl.split(',') });
  }

  /** The private nats-server (not there with `natsUrls`). */
  get nats(): TestNatsServer {
    if (!this.ownNats) throw new Error('this system runs on the NATS servers given as natsUrls');
    return this.ownNats;
  }

  static async start(options: SagaSystemOptions = {}): Promise<SagaSystem> {
    await Promise.all(['orders', 'inventory', 'payments'].map(freshSchema));
    const nats = options.natsUrls
      ? undefined
      : await startNatsServer({ accounts: options.natsAccounts });
    const system = new SagaSystem(nats, options);
    try {
      const [order, orderWorker, inventory, payment] = await Promise.allSettled([
        system.startOrder(),
        options.splitOrder ? system.startOrderWorker() : undefined,
        system.startApp('inventory', options.inventory),
        options.paymentApp ? system.startPayment() : undefined,
      ]);
      if (order.status === 'fulfilled') system.order = order.value;
      if (orderWorker.status === 'fulfilled') system.orderWorker = orderWorker.value;
      if (inventory.status === 'fulfilled') system.inventory = inventory.value;
      if (payment.status === 'fulfilled') system.payment = payment.value;
      for (const started of [order, orderWorker, inventory, payment])
        if (started.status === 'rejected') throw started.reason;
      system.nc = await system.connectNats();
      system.js = jetstream(system.nc);
      system.jsm = await jetstreamManager(system.nc);
      if (options.paymentProcess) {
        system.responderProcess = await startResponderProcess(system.natsEnv(OPERATOR_USER));
      } else if (!options.paymentApp) {
        system.responder = new PaymentResponder(system.js, system.jsm, options.payment);
        await system.responder.start();
      }
      return system;
    } catch (error) {
      // Whatever did start must not outlive a failed boot.
      await system.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.connections.close();
    await this.responder?.stop();
    this.responderProcess?.child.kill('SIGTERM');
    await this.responderProcess?.exited;
    await this.nc?.close();
    await Promise.all(
      [this.order, this.orderWorker, this.inventory, this.payment].flatMap((app) =>
        app ? [app.stop()] : [],
      ),
    );
    await this.stripeLocal?.stop();
    await this.ownNats?.destroy();
  }

  /** Kills the order app without warning (SIGKILL), then boots it again. */
  async crashAndRestartOrder(
    whileDown: () => Promise<void> = () => Promise.resolve(),
  ): Promise<void> {
    this.order.child.kill('SIGKILL');
    await this.order.stop();
    await whileDown();
    this.order = await this.startOrder();
  }

  /** Stops the inventory app (SIGTERM): its consumers stop; what arrives waits in NATS. */
  async stopInventory(): Promise<void> {
    await this.inventory.stop();
  }

  /** Starts the inventory app again on the port it had, where the other processes call it. */
  async startInventory(): Promise<void> {
    const port = Number(new URL(this.inventory.url).port);
    this.inventory = await this.startApp('inventory', this.options.inventory, port);
  }

  /** The processes of the order and inventory apps by name; split, the order app's two apart. */
  sagaApps(): Record<string, AppProcess> {
    const order: Record<string, AppProcess> = this.orderWorker
      ? { 'order api': this.order, 'order worker': this.orderWorker }
      : { order: this.order };
    return { ...order, inventory: this.inventory };
  }

  /** The order app, or with `splitOrder` its HTTP process. */
  startOrder(): Promise<AppProcess> {
    const { order, splitOrder } = this.options;
    return this.startApp('order', splitOrder ? { ...order, ORDER_ROLE: 'api' } : order);
  }

  /** With `splitOrder`: the order app's saga worker. */
  startOrderWorker(): Promise<AppProcess> {
    return this.startApp('order', { ...this.options.order, ORDER_ROLE: 'worker' });
  }

  /**
   * Stops the payment app, runs `whileDown`, then boots it again; its webhook endpoint at
   * stripe-local follows it to its new port.
   */
  async restartPayment(whileDown: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    if (!this.payment) throw new Error('the payment app is not running: start with paymentApp');
    await this.payment.stop();
    await whileDown();
    this.payment = await this.startPaymentApp();
  }

  /** stripe-local in the test process; the payment app reaches it only through the SDK's config. */
  private async startPayment(): Promise<AppProcess> {
    this.stripeLocal = await startStripeLocal({
      port: 0,
      host: '127.0.0.1',
      webhookSecret: WEBHOOK_SECRET,
      webhookRetryDelaysMs: [100, 250, 500, 1000],
    });
    this.stripe = new StripeLocalClient(this.stripeLocal.url);
    return this.startPaymentApp();
  }

  private async startPaymentApp(): Promise<AppProcess> {
    const payment = await this.startApp('payment', {
      STRIPE_SECRET_KEY: 'sk_test_saga_system',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...this.stripeLocal!.sdkEnv,
      ...this.options.paymentApp,
    });
    await this.stripe!.setWebhookEndpoint(`${payment.url}/webhooks/stripe`, WEBHOOK_SECRET);
    return payment;
  }

  /** Each app as its own Postgres role, migrating as the schema owner. */
  private async startApp(
    app: 'order' | 'inventory' | 'payment',
    overrides: Record<string, string> = {},
    port?: number,
  ): Promise<AppProcess> {
    return startAppProcess(
      app,
      {
        ...(await appDatabaseEnv(app)),
        ...this.natsEnv(app),
        NATS_RETRY_BASE_MS: '100',
        OUTBOX_POLL_MS: '200',
        OUTBOX_RELAY_AFTER_MS: '1000',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        ...overrides,
      },
      { port },
    );
  }

  /**
   * The apps as a client sees them (libs/client), each call as a principal of the default tenant:
   * the harness uses the SDK a storefront would. Retries are off: a test sees what the app answered.
   */
  orderAs(sub: string, roles: string[]): OrderApi {
    return orderClient({
      baseUrl: this.order.url,
      token: () => tokenFor(sub, roles),
      retries: 0,
      fetch: this.connections.fetch,
    });
  }

  inventoryAs(sub: string, roles: string[]): InventoryApi {
    return inventoryClient({
      baseUrl: this.inventory.url,
      token: () => tokenFor(sub, roles),
      retries: 0,
    });
  }

  paymentAs(sub: string, roles: string[]): PaymentApi {
    if (!this.payment) throw new Error('the payment app is not running: start with paymentApp');
    return paymentClient({
      baseUrl: this.payment.url,
      token: () => tokenFor(sub, roles),
      retries: 0,
    });
  }

  /** The order's payment as the storefront sees it (GET /payments/:orderId), once it exists. */
  async untilPayment(orderId: string, status: string): Promise<PaymentView> {
    const payments = this.paymentAs(OPERATOR.sub, OPERATOR.roles);
    return eventually(
      async () => {
        const { data } = await payments.GET('/payments/{orderId}', {
          params: { path: { orderId } },
        });
        return data?.status === status ? data : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `the payment of ${orderId} to be ${status}` },
    );
  }

  /** As the merchant of the default tenant, priced in `currency` (EUR). */
  async putProduct(
    sku: string,
    stock: number,
    priceMinor = 1000,
    lowStockThreshold = 0,
    currency = 'EUR',
  ): Promise<void> {
    await ok(
      this.inventoryAs(MERCHANT.sub, MERCHANT.roles).PUT('/inventory/products/{sku}', {
        params: { path: { sku } },
        body: { name: `Product ${sku}`, priceMinor, currency, stock, lowStockThreshold },
      }),
    );
  }

  async product(sku: string): Promise<ProductView> {
    return ok(
      this.inventoryAs(MERCHANT.sub, MERCHANT.roles).GET('/inventory/products/{sku}', {
        params: { path: { sku } },
      }),
    );
  }

  async reservations(orderId: string): Promise<ReservationView[]> {
    return ok(
      this.inventoryAs(OPERATOR.sub, OPERATOR.roles).GET('/inventory/reservations', {
        params: { query: { orderId } },
      }),
    );
  }

  /** As a customer (customer-1 unless given); answers the order id, or throws the ApiError. */
  async placeOrder(
    items: OrderLine[],
    customerId = 'customer-1',
    currency?: string,
  ): Promise<string> {
    const placed = await ok(
      this.orderAs(customerId, ['customer']).POST('/orders', {
        body: { items, ...(currency !== undefined && { currency }) },
      }),
    );
    return placed.orderId;
  }

  /** As the customer who placed it (`placeOrder`'s default customer unless given). */
  async cancelOrder(orderId: string, customerId = 'customer-1'): Promise<number> {
    const { response } = await this.orderAs(customerId, ['customer']).POST('/orders/{id}/cancel', {
      params: { path: { id: orderId } },
    });
    return response.status;
  }

  /** As an operator, who sees every customer's orders. */
  async getOrder(orderId: string): Promise<OrderView> {
    return ok(
      this.orderAs(OPERATOR.sub, OPERATOR.roles).GET('/orders/{id}', {
        params: { path: { id: orderId } },
      }),
    );
  }

  async untilSaga(orderId: string, state: string, timeoutMs = 20_000): Promise<OrderView> {
    return waitForOrder(this.orderAs(OPERATOR.sub, OPERATOR.roles), orderId, {
      until: (order) => order.saga.state === state,
      timeoutMs,
      intervalMs: 100,
    });
  }

  /** Every event about one order in a stream, oldest first. */
  async events(stream: string, orderId: string, subject?: string): Promise<EventEnvelope[]> {
    const all = await readStream<EventEnvelope<{ orderId?: string }>>(this.jsm, stream, subject);
    return all.filter((m) => m.body.payload.orderId === orderId).map((m) => m.body);
  }
}

/** The stand-in reads with a durable of its own, so it connects as the operator. */
async function startResponderProcess(env: Record<string, string>): Promise<ScriptProcess> {
  const responder = spawnScript('tests/harness/payment-responder.main.ts', env);
  await eventually(
    () => {
      const { stdout, stderr } = responder.output();
      if (responder.child.exitCode !== null) {
        throw new Error(`it exited with ${responder.child.exitCode}: ${stderr}`);
      }
      return stdout.includes('ready');
    },
    { what: 'the payment responder process to consume' },
  );
  return responder;
}
