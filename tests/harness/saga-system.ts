import { jetstream, JetStreamClient, jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsConnection } from '@nats-io/nats-core';
import { EventEnvelope } from '@lib/contracts';
import { StripeLocalClient } from '../../tools/stripe-local/stripe-local.client';
import { startStripeLocal, StripeLocal } from '../../tools/stripe-local/stripe-local.server';
import { AppProcess, ScriptProcess, spawnScript, startAppProcess } from './app-process';
import { appDatabaseEnv, freshSchema } from './database';
import { JsonClient } from './json-client';
import { OPERATOR_USER } from '../../infra/nats/permissions';
import { startNatsServer, TestNatsServer } from './nats-server';
import { PaymentAnswer, PaymentResponder } from './payment-responder';
import { readStream } from './streams';
import { asCustomer, asMerchant, asOperator } from './tokens';
import { eventually } from './wait';

export interface OrderView {
  orderId: string;
  status: string;
  totalMinor: number | null;
  lines: { sku: string; quantity: number; unitPriceMinor: number | null }[];
  saga: {
    sagaId: string;
    state: string;
    reason: string | null;
    steps: { from: string | null; to: string; trigger: string; reason: string | null }[];
  };
}

export interface ProductView {
  sku: string;
  available: number;
  reserved: number;
  committed: number;
}

export interface PaymentStatusView {
  orderId: string;
  status: string;
  paymentIntentId: string | null;
  clientSecret: string | null;
}

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

  private readonly orderClient: JsonClient;
  /** The NATS_URL every process of the system gets. */
  readonly natsUrl: string;

  private constructor(
    private readonly ownNats: TestNatsServer | undefined,
    private readonly options: SagaSystemOptions,
  ) {
    this.orderClient = new JsonClient(options.orderConnections);
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
    this.orderClient.close();
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
      port,
    );
  }

  /** The order's payment as the storefront sees it (GET /payments/:orderId), once it exists. */
  async untilPayment(orderId: string, status: string): Promise<PaymentStatusView> {
    if (!this.payment) throw new Error('the payment app is not running: start with paymentApp');
    const url = `${this.payment.url}/payments/${orderId}`;
    return eventually(
      async () => {
        const res = await fetch(url, { headers: await asOperator() });
        const view = res.status === 200 ? ((await res.json()) as PaymentStatusView) : undefined;
        return view?.status === status ? view : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `the payment of ${orderId} to be ${status}` },
    );
  }

  async putProduct(
    sku: string,
    stock: number,
    priceMinor = 1000,
    lowStockThreshold = 0,
  ): Promise<void> {
    const res = await fetch(`${this.inventory.url}/inventory/products/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(await asMerchant()) },
      body: JSON.stringify({
        name: `Product ${sku}`,
        priceMinor,
        currency: 'EUR',
        stock,
        lowStockThreshold,
      }),
    });
    if (res.status !== 200)
      throw new Error(`PUT product ${sku}: ${res.status} ${await res.text()}`);
  }

  async product(sku: string): Promise<ProductView> {
    const res = await fetch(`${this.inventory.url}/inventory/products/${sku}`, {
      headers: await asMerchant(),
    });
    return (await res.json()) as ProductView;
  }

  async reservations(orderId: string): Promise<{ status: string; releasedReason?: string }[]> {
    const res = await fetch(`${this.inventory.url}/inventory/reservations?orderId=${orderId}`, {
      headers: await asOperator(),
    });
    return (await res.json()) as { status: string; releasedReason?: string }[];
  }

  async placeOrder(
    items: { sku: string; quantity: number }[],
    customerId = 'customer-1',
  ): Promise<string> {
    const res = await this.orderClient.post(
      `${this.order.url}/orders`,
      { items },
      await asCustomer(customerId),
    );
    if (res.status !== 202) throw new Error(`POST /orders: ${res.status} ${res.text}`);
    return (JSON.parse(res.text) as { orderId: string }).orderId;
  }

  /** As the customer who placed it (`placeOrder`'s default customer unless given). */
  async cancelOrder(orderId: string, customerId = 'customer-1'): Promise<number> {
    const res = await fetch(`${this.order.url}/orders/${orderId}/cancel`, {
      method: 'POST',
      headers: await asCustomer(customerId),
    });
    return res.status;
  }

  /** As an operator, who sees every customer's orders. */
  async getOrder(orderId: string): Promise<OrderView> {
    const res = await fetch(`${this.order.url}/orders/${orderId}`, {
      headers: await asOperator(),
    });
    return (await res.json()) as OrderView;
  }

  async untilSaga(orderId: string, state: string, timeoutMs = 20_000): Promise<OrderView> {
    return eventually(
      async () => {
        const order = await this.getOrder(orderId);
        return order.saga.state === state ? order : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `the saga of ${orderId} to reach ${state}` },
    );
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
