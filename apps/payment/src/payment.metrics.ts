import {
  EventEnvelope,
  PaymentFailedV1,
  PaymentPendingV1,
  PaymentSucceededV1,
} from '@lib/contracts';
import { counter, gauge, histogram } from '@lib/observability';

export const paymentMetrics = {
  intentsCreated: counter({
    name: 'payment_intents_created_total',
    help: 'PaymentIntents created and recorded (payment.pending published)',
  }),
  succeeded: counter({
    name: 'payments_succeeded_total',
    help: 'Payments that succeeded (or were authorized, with manual capture)',
  }),
  failed: counter({
    name: 'payments_failed_total',
    help: 'Payments that failed: declined, or the intent could not be created',
  }),
  webhooks: counter({
    name: 'stripe_webhooks_total',
    help: 'Stripe webhook deliveries, by event type and outcome',
    labelNames: ['type', 'outcome'],
  }),
  webhooksRejected: counter({
    name: 'payment_webhooks_rejected_total',
    help: 'Signed Stripe events about our payments that do not match them (forged, or another mode or account), by reason',
    labelNames: ['reason'],
  }),
  requestSeconds: histogram({
    name: 'stripe_request_seconds',
    help: 'Stripe API calls, SDK retries included, by operation and outcome',
    labelNames: ['operation', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
  reconciled: counter({
    name: 'payment_reconciliation_fixes_total',
    help: 'Payments of cancelled orders settled by payment itself (reconciliation pass, or a success after the cancel), by action',
    labelNames: ['action'],
  }),
  circuitState: gauge({
    name: 'stripe_circuit_state',
    help: 'Stripe circuit breaker: 0 closed, 1 half-open (probing), 2 open (calls paused)',
  }),
};

/** Counts the events of a committed transaction: one that rolled back published nothing. */
export function recordPublished(events: EventEnvelope[]): void {
  for (const event of events) {
    if (event.eventName === PaymentPendingV1.eventName) paymentMetrics.intentsCreated.inc();
    if (event.eventName === PaymentSucceededV1.eventName) paymentMetrics.succeeded.inc();
    if (event.eventName === PaymentFailedV1.eventName) paymentMetrics.failed.inc();
  }
}
