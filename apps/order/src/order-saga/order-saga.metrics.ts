import { counter, gauge, histogram } from '@lib/observability';

export const sagaMetrics = {
  started: counter({ name: 'saga_started_total', help: 'Order sagas started' }),
  completed: counter({
    name: 'saga_completed_total',
    help: 'Order sagas completed (order confirmed)',
  }),
  compensated: counter({
    name: 'saga_compensated_total',
    help: 'Order sagas that ended cancelled, by reason',
    labelNames: ['reason'],
  }),
  failed: counter({
    name: 'saga_failed_total',
    help: 'Order sagas whose compensation could not complete',
  }),
  latePayments: counter({
    name: 'saga_late_payments_total',
    help: 'Payments that succeeded after their saga gave up the order: the compensation was sent again to refund them',
  }),
  duration: histogram({
    name: 'saga_duration_seconds',
    help: 'Time from order placement to a final saga state',
    labelNames: ['state'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  }),
  inFlight: gauge({ name: 'sagas_in_flight', help: 'Sagas not in a final state' }),
  overdue: gauge({
    name: 'sagas_overdue',
    help: 'Sagas whose deadline passed more than a minute ago: the scanner is not moving them',
  }),
};
