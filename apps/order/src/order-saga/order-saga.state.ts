/** Saga states and the transition table: what each trigger does in each state. Pure, no Nest. */
export const SAGA_STATES = [
  'STARTED',
  'STOCK_RESERVED',
  'PAYMENT_PENDING',
  'COMPLETED',
  'STOCK_FAILED',
  'PAYMENT_FAILED',
  'COMPENSATING',
  'CANCELLED',
  'FAILED',
] as const;
export type SagaState = (typeof SAGA_STATES)[number];

export const FINAL_STATES: readonly SagaState[] = ['COMPLETED', 'CANCELLED', 'FAILED'];

export type SagaTrigger =
  | 'stock-reserved'
  | 'out-of-stock'
  | 'stock-released'
  | 'stock-expired'
  | 'payment-pending'
  | 'payment-succeeded'
  | 'payment-failed'
  | 'deadline'
  | 'customer-cancel';

/** The order events a transition emits (always with the saga's ids). */
export type SagaCommand = 'request-payment' | 'confirm' | 'cancel' | 'fail';

/** Which deadline the saga waits under after the transition; none when absent. */
export type SagaDeadline = 'stock' | 'payment' | 'compensation' | 'unchanged';

export interface SagaTransition {
  /** The states passed through, last one final for this transition (transient ones are logged). */
  path: readonly [SagaState, ...SagaState[]];
  command?: SagaCommand;
  /** Why the order is cancelled or failed: carried on `order.cancelled` / `order.failed`. */
  reason?: string;
  deadline?: SagaDeadline;
}

const cancelHeldStock = (reason: string): SagaTransition => ({
  path: ['COMPENSATING'],
  command: 'cancel',
  reason,
  deadline: 'compensation',
});

/** While the stock is held and the money not yet in: the reply handling of the payment step. */
const AWAITING_PAYMENT: Partial<Record<SagaTrigger, SagaTransition>> = {
  'payment-succeeded': { path: ['COMPLETED'], command: 'confirm' },
  'payment-failed': {
    path: ['PAYMENT_FAILED', 'COMPENSATING'],
    command: 'cancel',
    reason: 'payment-failed',
    deadline: 'compensation',
  },
  // The reservation ran out first: its stock is already back, nothing left to release.
  'stock-expired': { path: ['CANCELLED'], command: 'cancel', reason: 'reservation-expired' },
  deadline: cancelHeldStock('payment-timeout'),
  'customer-cancel': cancelHeldStock('customer'),
};

/**
 * A trigger missing from a state's row is a late or duplicate reply: it is ignored. Compensation
 * sits next to the step it undoes: held stock is released by `order.cancelled`, and the saga waits
 * in COMPENSATING for inventory to confirm it, failing for an operator if it never does.
 */
export const ORDER_SAGA: Record<SagaState, Partial<Record<SagaTrigger, SagaTransition>>> = {
  STARTED: {
    'stock-reserved': { path: ['STOCK_RESERVED'], command: 'request-payment', deadline: 'payment' },
    'out-of-stock': {
      path: ['STOCK_FAILED', 'CANCELLED'],
      command: 'cancel',
      reason: 'out-of-stock',
    },
    // Nothing is known to be held yet: inventory releases or ignores the order on `order.cancelled`.
    deadline: { path: ['CANCELLED'], command: 'cancel', reason: 'stock-timeout' },
    'customer-cancel': { path: ['CANCELLED'], command: 'cancel', reason: 'customer' },
  },
  STOCK_RESERVED: {
    'payment-pending': { path: ['PAYMENT_PENDING'], deadline: 'unchanged' },
    ...AWAITING_PAYMENT,
  },
  PAYMENT_PENDING: AWAITING_PAYMENT,
  COMPENSATING: {
    'stock-released': { path: ['CANCELLED'] },
    'stock-expired': { path: ['CANCELLED'] },
    deadline: { path: ['FAILED'], command: 'fail', reason: 'stock release not confirmed in time' },
  },
  STOCK_FAILED: {},
  PAYMENT_FAILED: {},
  COMPLETED: {},
  CANCELLED: {},
  FAILED: {},
};

export function transitionFor(state: SagaState, trigger: SagaTrigger): SagaTransition | undefined {
  return ORDER_SAGA[state][trigger];
}

export function isFinal(state: SagaState): boolean {
  return FINAL_STATES.includes(state);
}

export type OrderStatus = 'PENDING' | 'CANCELLING' | 'CONFIRMED' | 'CANCELLED' | 'FAILED';

/** What a client sees of the saga's state. */
export function orderStatusOf(state: SagaState): OrderStatus {
  switch (state) {
    case 'STARTED':
    case 'STOCK_RESERVED':
    case 'PAYMENT_PENDING':
      return 'PENDING';
    case 'STOCK_FAILED':
    case 'PAYMENT_FAILED':
    case 'COMPENSATING':
      return 'CANCELLING';
    case 'COMPLETED':
      return 'CONFIRMED';
    case 'CANCELLED':
      return 'CANCELLED';
    case 'FAILED':
      return 'FAILED';
  }
}
