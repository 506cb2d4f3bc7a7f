import { DLQ_STREAM, STREAMS } from '@lib/contracts';
import { DeadLetter } from '@lib/messaging';
import { DEFAULT_TENANT } from '@lib/platform';
import { canConnect } from '../harness/nats-server';
import { readStream } from '../harness/streams';
import { sleep } from '../harness/wait';
import { AppName, ChaosPlatform } from './chaos-platform';
import { CallRecord } from './http-calls';
import { CATALOGUE, PlacedOrder } from './storefront';

/** A promise the platform broke, with enough detail to start looking. */
export interface Violation {
  invariant: string;
  detail: string;
}

/** A window in which a fault was in force: from the injection until everything was ready again. */
export interface Outage {
  what: string;
  /** The only app it made unreachable (a killed app); every app's database or NATS otherwise. */
  app?: AppName;
  /** Whether the apps' dependencies were away: 503 is then the honest answer. */
  dependency: boolean;
  from: number;
  to: number;
}

/** What a saga ends in without anyone's help; FAILED and RESOLVED involve an operator. */
const FINAL_STATES = ['COMPLETED', 'CANCELLED'];
const OPERATOR_STATES = ['FAILED', 'RESOLVED'];
const EVERY_ACCEPTED_ORDER_FINAL = 'every accepted order final';
const OUTBOXES_DRAINED = 'outboxes drained';
/** While these fail the platform is still at work: settling waits for them. */
const IN_MOTION = [EVERY_ACCEPTED_ORDER_FINAL, OUTBOXES_DRAINED];
/**
 * How long the rest may take once nothing moves: a reconciliation pass (every 10 s in the run),
 * a webhook retry.
 */
const QUIET_MS = 20_000;
const SCHEMAS = ['orders', 'payments', 'inventory', 'trading'];
/** Dead letters whose cause retrying cannot fix: an invalid event or a refusal by the handler. */
const PERMANENT_CAUSES = [/^invalid event: /, /^PermanentEventError: /];
/** Leaves room for the slowest legitimate path on a loaded machine: a restart, a redelivery. */
const DEADLINE_GRACE_MS = 15_000;

export interface SagaRow {
  orderId: string;
  state: string;
  reason: string | null;
  tenantId: string;
  createdAt: number;
  finishedAt: number;
}

/** What the checks read once per round: the sagas and Stripe's ledger. */
export interface Snapshot {
  sagas: Map<string, SagaRow>;
  ledger: Awaited<ReturnType<ChaosPlatform['stripe']['ledger']>>;
}

export class Invariants {
  constructor(
    private readonly platform: ChaosPlatform,
    private readonly deadlineMs: number,
  ) {}

  /**
   * The checks that hold once the platform has settled (every saga final, every compensation
   * done), run until they all pass; what still fails once nothing has moved for `QUIET_MS` (or
   * after `settleMs` in all) is a violation. Returns the last snapshot and what failed.
   */
  async settle(
    placed: PlacedOrder[],
    outages: Outage[],
    settleMs: number,
  ): Promise<{ snapshot: Snapshot; violations: Violation[] }> {
    const giveUpAt = Date.now() + settleMs;
    let stillSince: number | undefined;
    for (;;) {
      const snapshot = await this.snapshot();
      const violations = [
        ...this.ordersFinal(snapshot, placed, outages),
        ...(await this.noneLeftForOperators(snapshot)),
        ...(await this.stockBalanced()),
        ...this.moneyReconciled(snapshot),
        ...(await this.paymentRecords(snapshot)),
        ...(await this.outboxesDrained()),
        ...(await this.consumersDrained()),
      ];
      const moving = violations.some((violation) => IN_MOTION.includes(violation.invariant));
      stillSince = moving ? undefined : (stillSince ?? Date.now());
      const quiet = stillSince !== undefined && Date.now() - stillSince > QUIET_MS;
      if (violations.length === 0 || quiet || Date.now() > giveUpAt)
        return { snapshot, violations };
      await sleep(2000);
    }
  }

  /** The checks of what already happened: dead letters, HTTP answers, crashes. */
  async happened(
    deadLetters: DeadLetter[],
    calls: CallRecord[],
    outages: Outage[],
  ): Promise<Violation[]> {
    const crashes = [...this.platform.crashes];
    if (this.platform.postgres.crashed) crashes.push('Postgres exited on its own');
    if (!(await canConnect(this.platform.nats.port))) crashes.push('nats-server is not running');
    return [
      ...this.noTransientDeadLetters(deadLetters),
      ...answeredWithout5xx(calls, outages),
      ...crashes.map((detail) => ({ invariant: 'no process crash', detail })),
    ];
  }

  async snapshot(): Promise<Snapshot> {
    const { rows } = await this.platform.db.query<{
      order_id: string;
      state: string;
      reason: string | null;
      tenant_id: string;
      created: number;
      finished: number;
    }>(
      `SELECT order_id, state, reason, tenant_id,
              extract(epoch FROM created_at) * 1000 AS created,
              extract(epoch FROM updated_at) * 1000 AS finished
         FROM orders.sagas`,
    );
    const sagas = new Map(
      rows.map((row) => [
        row.order_id,
        {
          orderId: row.order_id,
          state: row.state,
          reason: row.reason,
          tenantId: row.tenant_id,
          createdAt: Number(row.created),
          finishedAt: Number(row.finished),
        },
      ]),
    );
    return { sagas, ledger: await this.platform.stripe.ledger() };
  }

  /** Every dead letter so far. */
  async deadLetters(): Promise<DeadLetter[]> {
    return (await readStream<DeadLetter>(this.platform.jsm, DLQ_STREAM)).map((m) => m.body);
  }

  /**
   * Every accepted order has a saga, and every saga ended COMPLETED or CANCELLED (FAILED waits for
   * an operator) within its deadlines, stretched by the outages it lived through.
   */
  private ordersFinal({ sagas }: Snapshot, placed: PlacedOrder[], outages: Outage[]): Violation[] {
    const violations: Violation[] = [];
    const lost = placed.filter((order) => !sagas.has(order.orderId));
    if (lost.length > 0)
      violations.push({
        invariant: EVERY_ACCEPTED_ORDER_FINAL,
        detail: `${lost.length} accepted orders have no saga, e.g. ${lost[0]!.orderId}`,
      });
    const open = [...sagas.values()].filter(
      (saga) => !FINAL_STATES.includes(saga.state) && !OPERATOR_STATES.includes(saga.state),
    );
    for (const [state, count] of countBy(open, (saga) => saga.state))
      violations.push({
        invariant: EVERY_ACCEPTED_ORDER_FINAL,
        detail: `${count} sagas in ${state}, e.g. ${open.find((saga) => saga.state === state)!.orderId}`,
      });
    const late = [...sagas.values()].filter((saga) => {
      if (!FINAL_STATES.includes(saga.state)) return false;
      const stretched = outages
        .filter((outage) => outage.from < saga.finishedAt && outage.to > saga.createdAt)
        .reduce((sum, outage) => sum + (outage.to - outage.from), 0);
      return saga.finishedAt - saga.createdAt > this.deadlineMs + stretched + DEADLINE_GRACE_MS;
    });
    if (late.length > 0)
      violations.push({
        invariant: 'every accepted order final within its deadlines',
        detail: `${late.length} sagas took longer, e.g. ${late[0]!.orderId} (${Math.round(late[0]!.finishedAt - late[0]!.createdAt)} ms)`,
      });
    return violations;
  }

  /** A saga that FAILED waits for an operator: named with its reason and steps, to start looking. */
  private async noneLeftForOperators({ sagas }: Snapshot): Promise<Violation[]> {
    const stuck = [...sagas.values()].filter((saga) => OPERATOR_STATES.includes(saga.state));
    const violations: Violation[] = [];
    for (const saga of stuck.slice(0, 3)) {
      const { rows } = await this.platform.db.query<{ step: string }>(
        `SELECT coalesce(st.from_state, '-') || ' -> ' || st.to_state || ' on ' || st.trigger ||
                ' at +' || round(extract(epoch FROM st.at - s.created_at) * 1000) || ' ms' AS step
           FROM orders.saga_steps st JOIN orders.sagas s ON s.id = st.saga_id
          WHERE s.order_id = $1 ORDER BY st.id`,
        [saga.orderId],
      );
      violations.push({
        invariant: 'no order left for an operator',
        detail: `order ${saga.orderId} ${saga.state} (${saga.reason ?? 'no reason'}): ${rows.map((row) => row.step).join('; ')}`,
      });
    }
    if (stuck.length > 3)
      violations.push({
        invariant: 'no order left for an operator',
        detail: `and ${stuck.length - 3} more`,
      });
    return violations;
  }

  /** Per SKU: available + reserved + committed = initial stock, committed = units sold, nothing held. */
  private async stockBalanced(): Promise<Violation[]> {
    const skus = CATALOGUE.map((product) => product.sku);
    const { rows: products } = await this.platform.db.query<{
      sku: string;
      available: number;
      reserved: number;
      committed: number;
    }>(
      'SELECT sku, available, reserved, committed FROM inventory.products WHERE tenant_id = $1 AND sku = ANY($2)',
      [DEFAULT_TENANT, skus],
    );
    const { rows: sold } = await this.platform.db.query<{ sku: string; units: string }>(
      `SELECT l.sku, sum(l.quantity) AS units
         FROM orders.order_lines l
         JOIN orders.orders o ON o.id = l.order_id
         JOIN orders.sagas s ON s.order_id = l.order_id
        WHERE s.state = 'COMPLETED' AND o.tenant_id = $1 AND l.sku = ANY($2)
        GROUP BY l.sku`,
      [DEFAULT_TENANT, skus],
    );
    const violations: Violation[] = [];
    for (const { sku, stock } of CATALOGUE) {
      const product = products.find((row) => row.sku === sku);
      const units = Number(sold.find((row) => row.sku === sku)?.units ?? 0);
      if (!product) {
        violations.push({ invariant: 'stock balanced', detail: `${sku} is missing` });
        continue;
      }
      const { available, reserved, committed } = product;
      if (available + reserved + committed !== stock)
        violations.push({
          invariant: 'stock balanced',
          detail: `${sku}: available ${available} + reserved ${reserved} + committed ${committed} ≠ ${stock}`,
        });
      if (committed !== units)
        violations.push({
          invariant: 'stock balanced',
          detail: `${sku}: committed ${committed} ≠ ${units} units in completed orders`,
        });
      if (reserved !== 0)
        violations.push({
          invariant: 'stock balanced',
          detail: `${sku}: ${reserved} units still reserved`,
        });
    }
    return violations;
  }

  /**
   * Stripe's side: one succeeded PaymentIntent, never refunded, per completed order; every intent
   * that succeeded for a cancelled order refunded exactly once, in full; no intent left open for
   * an order that is over; no intent of an order the platform does not know.
   */
  private moneyReconciled({ sagas, ledger }: Snapshot): Violation[] {
    const violations: Violation[] = [];
    const fail = (invariant: string, detail: string) => violations.push({ invariant, detail });
    const refundsOf = groupBy(ledger.refunds, (refund) => refund.payment_intent ?? '');
    const intentsOf = groupBy(ledger.paymentIntents, (intent) => intent.metadata.orderId ?? '');
    for (const [orderId, intents] of intentsOf) {
      const saga = sagas.get(orderId);
      if (!saga) {
        fail(
          'no intent without an order',
          `${intents.length} intents name order ${orderId || '(none)'}`,
        );
        continue;
      }
      // An order that is over, by itself or by an operator's hand.
      if (!FINAL_STATES.includes(saga.state) && !OPERATOR_STATES.includes(saga.state)) continue;
      const open = intents.filter((intent) => !['succeeded', 'canceled'].includes(intent.status));
      if (open.length > 0)
        fail(
          'no open intent for a final order',
          `${saga.state} order ${orderId}: ${open[0]!.id} is ${open[0]!.status}`,
        );
      const succeeded = intents.filter((intent) => intent.status === 'succeeded');
      if (saga.state === 'COMPLETED') {
        if (succeeded.length !== 1)
          fail(
            'one succeeded intent per completed order',
            `order ${orderId} has ${succeeded.length}`,
          );
        for (const intent of succeeded) {
          const refunds = refundsOf.get(intent.id) ?? [];
          if (refunds.length > 0)
            fail(
              'one succeeded intent per completed order',
              `completed order ${orderId} was refunded (${intent.id})`,
            );
        }
        continue;
      }
      for (const intent of succeeded) {
        const refunds = refundsOf.get(intent.id) ?? [];
        const refunded = refunds.reduce((sum, refund) => sum + refund.amount, 0);
        if (refunds.length !== 1 || refunded !== intent.amount)
          fail(
            'every paid-then-cancelled order refunded exactly once',
            `order ${orderId}: ${intent.id} of ${intent.amount} has ${refunds.length} refunds of ${refunded}`,
          );
      }
    }
    for (const saga of sagas.values())
      if (saga.state === 'COMPLETED' && !intentsOf.has(saga.orderId))
        fail(
          'one succeeded intent per completed order',
          `completed order ${saga.orderId} has no intent`,
        );
    return violations;
  }

  /** The payment app's own record agrees: a paid-then-cancelled order's payment is REFUNDED. */
  private async paymentRecords({ sagas, ledger }: Snapshot): Promise<Violation[]> {
    const { rows } = await this.platform.db.query<{ order_id: string; status: string }>(
      'SELECT order_id, status FROM payments.payments',
    );
    const statusOf = new Map(rows.map((row) => [row.order_id, row.status]));
    const violations: Violation[] = [];
    for (const intent of ledger.paymentIntents) {
      const saga = sagas.get(intent.metadata.orderId ?? '');
      if (intent.status !== 'succeeded' || !saga || !FINAL_STATES.includes(saga.state)) continue;
      const expected = saga.state === 'COMPLETED' ? 'SUCCEEDED' : 'REFUNDED';
      const status = statusOf.get(saga.orderId);
      if (status !== expected)
        violations.push({
          invariant: 'payment records agree with Stripe',
          detail: `${saga.state} order ${saga.orderId} paid at Stripe: payment is ${status ?? 'missing'}, not ${expected}`,
        });
    }
    return violations;
  }

  private async outboxesDrained(): Promise<Violation[]> {
    const violations: Violation[] = [];
    for (const schema of SCHEMAS) {
      const { rows } = await this.platform.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`,
      );
      const unpublished = rows[0]?.n ?? 0;
      if (unpublished > 0)
        violations.push({
          invariant: OUTBOXES_DRAINED,
          detail: `${schema}: ${unpublished} events not published`,
        });
    }
    return violations;
  }

  /** Every durable consumer has taken and acknowledged everything on its stream. */
  private async consumersDrained(): Promise<Violation[]> {
    const violations: Violation[] = [];
    for (const { name } of STREAMS) {
      for await (const info of this.platform.jsm.consumers.list(name)) {
        const waiting = info.num_pending + info.num_ack_pending;
        if (waiting > 0)
          violations.push({
            invariant: OUTBOXES_DRAINED,
            detail: `${name}/${info.name}: ${info.num_pending} not delivered, ${info.num_ack_pending} unacknowledged`,
          });
      }
    }
    return violations;
  }

  private noTransientDeadLetters(deadLetters: DeadLetter[]): Violation[] {
    return deadLetters
      .filter((letter) => transientCause(letter.error))
      .map((letter) => ({
        invariant: 'no dead letter from a transient cause',
        detail: `${letter.consumer} ${letter.subject} #${letter.sequence} after ${letter.deliveries} deliveries: ${letter.error.slice(0, 200)}`,
      }));
  }
}

/** Whether retrying could have handled it: not an invalid event, not the handler's refusal. */
export function transientCause(error: string): boolean {
  return !PERMANENT_CAUSES.some((cause) => cause.test(error));
}

/**
 * No 5xx, and an answer to every request: 503 only while a dependency was away, and no answer
 * only from an app that was down at the time.
 */
function answeredWithout5xx(calls: CallRecord[], outages: Outage[]): Violation[] {
  const during = (call: CallRecord, matches: (outage: Outage) => boolean) =>
    outages.some(
      (outage) => matches(outage) && call.startedAt <= outage.to && call.endedAt >= outage.from,
    );
  const bad = new Map<string, { count: number; example: CallRecord }>();
  const note = (invariant: string, call: CallRecord) => {
    const key = `${invariant}\u0000${call.app} ${call.route} ${call.status ?? call.error}`;
    const seen = bad.get(key);
    if (seen) seen.count++;
    else bad.set(key, { count: 1, example: call });
  };
  for (const call of calls) {
    if (call.status === null) {
      if (!during(call, (outage) => outage.app === call.app)) note('every request answered', call);
    } else if (call.status >= 500) {
      const excused = call.status === 503 && during(call, (outage) => outage.dependency);
      if (!excused) note('no 5xx', call);
    } else if (call.notJson) note('every refusal is a JSON error', call);
  }
  return [...bad.entries()].map(([key, { count, example }]) => ({
    invariant: key.split('\u0000')[0]!,
    detail: `${count} × ${example.source} ${example.app} ${example.route}: ${example.status ?? example.error}${
      example.evidence ? `\n      ${example.evidence}` : ''
    }`,
  }));
}

export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
