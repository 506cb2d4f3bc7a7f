import { randomUUID } from 'node:crypto';
import { asCustomer } from '../harness/tokens';
import { sleep } from '../harness/wait';
import { ChaosConfig } from './chaos.config';
import { AppName, ChaosPlatform } from './chaos-platform';
import { HttpCalls } from './http-calls';
import { TextAnswer, TextRequest } from '../harness/keep-alive-fetch';
import { Random } from './random';

/** How a customer behaves once the order is placed. */
export type CustomerKind =
  /** pays with 4242 as soon as the PaymentIntent shows */
  | 'prompt'
  /** pays a few seconds later, still within the payment deadline */
  | 'late'
  /** is declined (4000 0000 0000 0002) and gives up: the saga cancels */
  | 'declined'
  /** is declined, then pays with another card at once: a race with the compensation */
  | 'declined-then-paid'
  /** cancels the order and pays the intent right after: the money must come back */
  | 'cancel-then-pay'
  /** cancels without paying */
  | 'cancel'
  /** never pays: the payment deadline cancels */
  | 'abandon'
  /** pays only once the payment deadline has cancelled the order */
  | 'after-deadline';

const MIX: Record<CustomerKind, number> = {
  prompt: 55,
  late: 12,
  declined: 5,
  'declined-then-paid': 5,
  'cancel-then-pay': 8,
  cancel: 4,
  abandon: 5,
  'after-deadline': 6,
};
/** The kinds whose order stays open for the whole payment deadline. */
const SLOW: readonly CustomerKind[] = ['abandon', 'after-deadline'];

const VISA = '4242424242424242';
const DECLINED = '4000000000000002';

/** What the storefront sells; CHAOS-RARE sells out during the run (the out-of-stock path). */
export const CATALOGUE = [
  { sku: 'CHAOS-TEE', stock: 1_000_000, priceMinor: 1500 },
  { sku: 'CHAOS-MUG', stock: 1_000_000, priceMinor: 899 },
  { sku: 'CHAOS-CAP', stock: 1_000_000, priceMinor: 2450 },
  { sku: 'CHAOS-RARE', stock: 60, priceMinor: 9900 },
] as const;

const FINAL = ['COMPLETED', 'CANCELLED', 'FAILED', 'RESOLVED'];

export interface PlacedOrder {
  orderId: string;
  kind: CustomerKind;
  phase: string;
  placedAt: number;
  lines: { sku: string; quantity: number }[];
  /** The customer's card went through: Stripe took the money. */
  paid: boolean;
}

interface OrderAnswer {
  saga: { state: string };
}

/**
 * Customers placing orders at a steady rate and paying as a storefront does: poll the order until
 * its PaymentIntent exists, read it from GET /payments/:orderId, confirm it with a test card at
 * stripe-local. Every request is retried through outages, POST /orders under one Idempotency-Key.
 */
export class Storefront {
  readonly orders: PlacedOrder[] = [];
  /** Customers whose order was never accepted, by the last answer they got. */
  readonly unplaced = new Map<string, number>();
  private readonly customers = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private served = 0;

  constructor(
    private readonly platform: ChaosPlatform,
    private readonly http: HttpCalls,
    private readonly random: Random,
    private readonly config: ChaosConfig,
  ) {}

  /** Starts a customer every 1/ordersPerSecond s until `close()`. */
  open(phase: string): void {
    const openedAt = Date.now();
    this.timer = setInterval(() => {
      const slowAllowed = Date.now() - openedAt < this.config.slowCustomersForMs;
      let kind = this.random.weighted(MIX);
      while (!slowAllowed && SLOW.includes(kind)) kind = this.random.weighted(MIX);
      const customer = this.serve(kind, phase).catch((error: unknown) => {
        throw new Error(`a ${kind} customer failed: ${String(error)}`);
      });
      this.customers.add(customer);
      void customer.finally(() => this.customers.delete(customer)).catch(() => undefined);
    }, 1000 / this.config.ordersPerSecond);
  }

  /** Stops placing orders and waits until every customer is done (paid, cancelled or given up). */
  async close(): Promise<void> {
    this.halt();
    await Promise.all([...this.customers]);
  }

  /** Stops placing orders, leaving the customers in flight to themselves (the run is over). */
  halt(): void {
    clearInterval(this.timer);
  }

  private async serve(kind: CustomerKind, phase: string): Promise<void> {
    const customerId = `chaos-customer-${this.served++ % 40}`;
    const headers = await asCustomer(customerId);
    const lines = this.pickLines();
    const idempotencyKey = randomUUID();
    const placed = await this.persist('order', 'POST /orders', {
      method: 'POST',
      url: `${this.platform.url('order')}/orders`,
      headers: {
        ...headers,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify({ items: lines }),
    });
    if (placed?.status !== 202) {
      const why = placed ? String(placed.status) : 'no answer';
      this.unplaced.set(why, (this.unplaced.get(why) ?? 0) + 1);
      return;
    }
    const { orderId } = JSON.parse(placed.text) as { orderId: string };
    const order: PlacedOrder = { orderId, kind, phase, placedAt: Date.now(), lines, paid: false };
    this.orders.push(order);

    if (kind === 'abandon') return;
    if (kind === 'cancel') {
      await sleep(this.random.int(0, 1000));
      await this.cancel(order, headers);
      return;
    }
    if (kind === 'after-deadline') {
      // Back just before the deadline, watching closely: pays the moment the saga gives up, a
      // race with the compensation that cancels the intent.
      await sleep(this.config.deadlines.paymentMs - 2000);
      await this.untilState(order, headers, ['COMPENSATING', ...FINAL], 100);
      const intent = await this.paymentIntentOf(order, headers);
      if (intent) await this.pay(order, intent, VISA);
      return;
    }
    const state = await this.untilState(order, headers, ['PAYMENT_PENDING', ...FINAL]);
    const intent =
      state === 'PAYMENT_PENDING' ? await this.paymentIntentOf(order, headers) : undefined;
    if (!intent) return;
    switch (kind) {
      case 'prompt':
        await this.pay(order, intent, VISA);
        break;
      case 'late':
        await sleep(this.random.int(2000, 5000));
        await this.pay(order, intent, VISA);
        break;
      case 'declined':
        await this.pay(order, intent, DECLINED);
        break;
      case 'declined-then-paid':
        await this.pay(order, intent, DECLINED);
        await this.pay(order, intent, VISA);
        break;
      case 'cancel-then-pay':
        await this.cancel(order, headers);
        await this.pay(order, intent, VISA);
        break;
    }
  }

  /** 1 to 3 lines of 1 to 3 units; one order in ten wants the rare product too. */
  private pickLines(): { sku: string; quantity: number }[] {
    const plentiful = CATALOGUE.filter((product) => product.sku !== 'CHAOS-RARE');
    const skus = new Set<string>();
    const count = this.random.int(1, 3);
    while (skus.size < count) skus.add(this.random.pick(plentiful).sku);
    if (this.random.chance(0.1)) skus.add('CHAOS-RARE');
    return [...skus].map((sku) => ({ sku, quantity: this.random.int(1, 3) }));
  }

  /** Polls the order, less and less often (or every `everyMs`), until its saga is in one of `states`. */
  private async untilState(
    order: PlacedOrder,
    headers: Record<string, string>,
    states: string[],
    everyMs?: number,
  ): Promise<string | undefined> {
    const { stockMs, paymentMs, compensationMs } = this.config.deadlines;
    const giveUpAt = Date.now() + stockMs + paymentMs + compensationMs + 30_000;
    let wait = everyMs ?? 250;
    while (Date.now() < giveUpAt) {
      const answer = await this.persist('order', 'GET /orders/:id', {
        method: 'GET',
        url: `${this.platform.url('order')}/orders/${order.orderId}`,
        headers,
      });
      const state =
        answer?.status === 200 ? (JSON.parse(answer.text) as OrderAnswer).saga.state : undefined;
      if (state && states.includes(state)) return state;
      await sleep(wait);
      wait = everyMs ?? Math.min(wait * 1.5, 2000);
    }
    return undefined;
  }

  private async paymentIntentOf(
    order: PlacedOrder,
    headers: Record<string, string>,
  ): Promise<string | undefined> {
    const answer = await this.persist('payment', 'GET /payments/:orderId', {
      method: 'GET',
      url: `${this.platform.url('payment')}/payments/${order.orderId}`,
      headers,
    });
    if (answer?.status !== 200) return undefined;
    return (
      (JSON.parse(answer.text) as { paymentIntentId: string | null }).paymentIntentId ?? undefined
    );
  }

  private async cancel(order: PlacedOrder, headers: Record<string, string>): Promise<void> {
    await this.persist('order', 'POST /orders/:id/cancel', {
      method: 'POST',
      url: `${this.platform.url('order')}/orders/${order.orderId}/cancel`,
      headers: { ...headers, 'idempotency-key': randomUUID() },
    });
  }

  /** Confirms with a card as Stripe.js would; Stripe refuses an intent already cancelled. */
  private async pay(order: PlacedOrder, paymentIntentId: string, card: string): Promise<void> {
    const intent = await this.platform.stripe.confirm(paymentIntentId, card).catch(() => undefined);
    if (intent?.status === 'succeeded') order.paid = true;
  }

  /**
   * Sends until an answer that is not an outage (none, 5xx, 429), for up to a minute: a
   * storefront retries while an app restarts or its database is away.
   */
  private async persist(
    app: AppName,
    route: string,
    req: TextRequest,
  ): Promise<TextAnswer | undefined> {
    const giveUpAt = Date.now() + 60_000;
    let wait = 250;
    for (;;) {
      const answer = await this.http.send(app, route, 'storefront', req);
      const outage = !answer || answer.status >= 500 || answer.status === 429;
      if (!outage || Date.now() > giveUpAt) return answer;
      await sleep(wait);
      wait = Math.min(wait * 1.5, 2000);
    }
  }
}
