import { DeadLetter } from '@lib/messaging';
import { DeliveryRecord } from '../../tools/stripe-local/stripe-local.client';
import { printTable } from '../bench/stats';
import { CallRecord } from './http-calls';
import { countBy, Snapshot, transientCause, Violation } from './invariants';
import { PlacedOrder } from './storefront';

/** One fault and how long the platform took to come back from it. */
export interface Recovery {
  fault: string;
  /** How long it was in force. */
  downMs: number;
  /** From the repair (restart, clear) until every app answered ready; none for Stripe. */
  readyMs?: number;
  healedAt: number;
}

export interface PhaseResult {
  phase: string;
  ms: number;
  orders: number;
  settledMs: number;
  violations: Violation[];
}

export interface Figures {
  orders: PlacedOrder[];
  unplaced: Map<string, number>;
  snapshot: Snapshot;
  deadLetters: DeadLetter[];
  recoveries: Recovery[];
  calls: CallRecord[];
  webhooks: DeliveryRecord[];
  phases: PhaseResult[];
}

/** The run in numbers: orders and outcomes, dead letters by reason, recovery times, HTTP answers. */
export function printFigures(figures: Figures): void {
  const { snapshot } = figures;
  printOrders(figures);

  const outcomes = countBy(snapshot.sagas.values(), (saga) =>
    [saga.tenantId, saga.state, saga.reason ?? ''].join('\u0000'),
  );
  printTable(
    'Outcomes (every saga, the fuzz tenant included)',
    [...outcomes.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => {
        const [tenant, state, reason] = key.split('\u0000') as [string, string, string];
        return { tenant, state, reason, sagas: count };
      }),
  );

  const letters = countBy(figures.deadLetters, (letter) =>
    [
      letter.consumer,
      letter.error.slice(0, 90),
      transientCause(letter.error) ? 'transient' : 'permanent',
    ].join('\u0000'),
  );
  if (letters.size === 0) process.stdout.write('\nDead letters: none\n');
  else
    printTable(
      'Dead letters by reason',
      [...letters.entries()].map(([key, count]) => {
        const [consumer, reason, cause] = key.split('\u0000') as [string, string, string];
        return { consumer, cause, reason, letters: count };
      }),
    );

  printTable(
    'Recovery',
    figures.recoveries.map((recovery) => ({
      fault: recovery.fault,
      'down ms': recovery.downMs,
      'ready after ms': recovery.readyMs ?? '-',
      'next new order completed after ms': firstCompletedAfter(figures, recovery.healedAt),
    })),
  );

  printTable('HTTP answers', httpRows(figures.calls));
  const fuzzed = figures.calls.filter((call) => call.source === 'fuzz');
  if (fuzzed.length > 0)
    printTable(
      `Fuzz: ${fuzzed.length} requests to ${new Set(fuzzed.map((call) => `${call.app} ${call.route}`)).size} routes`,
      [...countBy(fuzzed, (call) => String(call.status ?? call.error))]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([answer, requests]) => ({ answer, requests })),
    );
  const attempts = figures.webhooks.length;
  const delivered = new Set(
    figures.webhooks.filter((d) => d.outcome === 'delivered').map((d) => d.eventId),
  );
  const events = new Set(figures.webhooks.map((d) => d.eventId));
  const { paymentIntents, refunds } = snapshot.ledger;
  printTable('Stripe', [
    { measure: 'PaymentIntents created', value: paymentIntents.length },
    { measure: 'succeeded', value: paymentIntents.filter((i) => i.status === 'succeeded').length },
    { measure: 'canceled', value: paymentIntents.filter((i) => i.status === 'canceled').length },
    { measure: 'refunds', value: refunds.length },
    { measure: 'webhook events', value: events.size },
    { measure: 'webhook attempts', value: attempts },
    { measure: 'events never delivered', value: events.size - delivered.size },
  ]);

  printTable(
    'Phases',
    figures.phases.map((phase) => ({
      phase: phase.phase,
      s: Math.round(phase.ms / 1000),
      orders: phase.orders,
      'settled after s': Math.round(phase.settledMs / 1000),
      violations: phase.violations.length,
    })),
  );
}

function printOrders({ orders, unplaced, snapshot }: Figures): void {
  const refunded = new Set(snapshot.ledger.refunds.map((refund) => refund.payment_intent));
  const refundedOrders = new Set(
    snapshot.ledger.paymentIntents
      .filter((intent) => refunded.has(intent.id))
      .map((intent) => intent.metadata.orderId),
  );
  const kinds = [...new Set(orders.map((order) => order.kind))].sort();
  const row = (kind: string, of: PlacedOrder[]) => {
    const stateOf = (order: PlacedOrder) => snapshot.sagas.get(order.orderId)?.state;
    const paidCancelled = of.filter((o) => o.paid && stateOf(o) === 'CANCELLED');
    return {
      customer: kind,
      placed: of.length,
      completed: of.filter((o) => stateOf(o) === 'COMPLETED').length,
      cancelled: of.filter((o) => stateOf(o) === 'CANCELLED').length,
      'paid at Stripe': of.filter((o) => o.paid).length,
      'paid, then cancelled': paidCancelled.length,
      refunded: paidCancelled.filter((o) => refundedOrders.has(o.orderId)).length,
    };
  };
  printTable('Orders by customer', [
    ...kinds.map((kind) =>
      row(
        kind,
        orders.filter((order) => order.kind === kind),
      ),
    ),
    row('all', orders),
  ]);
  if (unplaced.size > 0)
    process.stdout.write(
      `orders never accepted: ${[...unplaced.entries()].map(([why, n]) => `${n} (${why})`).join(', ')}\n`,
    );
}

/** How soon after a repair an order placed after it completed: the pipeline flowing again. */
function firstCompletedAfter({ orders, snapshot }: Figures, healedAt: number): number | string {
  const completed = orders
    .filter((order) => order.placedAt >= healedAt)
    .map((order) => snapshot.sagas.get(order.orderId))
    .filter((saga) => saga?.state === 'COMPLETED')
    .map((saga) => saga!.finishedAt - healedAt);
  return completed.length === 0 ? '-' : Math.round(Math.min(...completed));
}

function httpRows(calls: CallRecord[]): Record<string, string | number>[] {
  const sources = [...new Set(calls.map((call) => call.source))];
  return sources.map((source) => {
    const of = calls.filter((call) => call.source === source);
    const status = (test: (s: number) => boolean) =>
      of.filter((call) => call.status !== null && test(call.status)).length;
    return {
      from: source,
      requests: of.length,
      '2xx-3xx': status((s) => s < 400),
      '4xx': status((s) => s >= 400 && s < 500),
      '5xx: 503': status((s) => s === 503),
      '5xx: other': status((s) => s >= 500 && s !== 503),
      unanswered: of.filter((call) => call.status === null).length,
    };
  });
}
