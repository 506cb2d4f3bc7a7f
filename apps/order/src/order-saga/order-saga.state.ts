/** Saga states and the transition table: what each trigger does in each state. Pure, no Nest. */
import { SAGA_ACTIONS, SagaAction } from '@lib/operator-api';

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
  'RESOLVED',
] as const;
export type SagaState = (typeof SAGA_STATES)[number];

/**
 * No reply or deadline moves these (a late payment makes them compensate again, in place).
 * `FAILED` waits for an operator, whose cancel compensates again and whose resolve closes it as
 * `RESOLVED`.
 */
export const FINAL_STATES: readonly SagaState[] = ['COMPLETED', 'CANCELLED', 'FAILED', 'RESOLVED'];

export type SagaTrigger =
  | 'stock-reserved'
  | 'out-of-stock'
  | 'stock-released'
  | 'stock-expired'
  | 'payment-pending'
  | 'payment-succeeded'
  | 'payment-failed'
  | 'deadline'
  | 'customer-cancel'
  | OperatorTrigger;

/** An operator's action on the saga (`/operator/sagas/:id/<action>`), audited. */
export type OperatorTrigger = `operator-${SagaAction}`;

/** The order events a transition emits (always with the saga's ids). */
export type SagaCommand = 'create' | 'request-payment' | 'confirm' | 'cancel' | 'fail' | 'resolve';

/** Which deadline the saga waits under after the transition; none when absent. */
export type SagaDeadline = 'stock' | 'payment' | 'compensation' | 'unchanged';

export interface SagaTransition {
  /** The states passed through, last one final for this transition (transient ones are logged). */
  path: readonly [SagaState, ...SagaState[]];
  command?: SagaCommand;
  /** Why the order is cancelled or failed: carried on `order.cancelled` / `order.failed`. */
  reason?: string;
  deadline?: SagaDeadline;
  /**
   * A retry: the command repeats the one emitted on entering this state, and carries its causation
   * (the event id of the step that entered it).
   */
  repeats?: SagaState;
}

const cancelHeldStock = (reason: string): SagaTransition => ({
  path: ['COMPENSATING'],
  command: 'cancel',
  reason,
  deadline: 'compensation',
});

/**
 * An operator's retry re-emits the command of the step the saga waits on (a new event id, the
 * original's causation), with a fresh deadline for that step: for a participant that lost it, or
 * was fixed. Participants answer a repeated command with what they decided the first time.
 */
const retry = (
  state: SagaState,
  command: SagaCommand,
  deadline: SagaDeadline,
  repeats: SagaState = state,
) => ({ 'operator-retry': { path: [state], command, deadline, repeats } satisfies SagaTransition });

/**
 * Money moved for an order the saga has given up (the customer paid the open intent late, e.g. its
 * cancel never reached payment): `order.cancelled` goes out again, so payment refunds it with the
 * step's key, once, however often it hears it. The saga stays where it is.
 */
const refundLatePayment = (state: SagaState, deadline?: SagaDeadline) => ({
  'payment-succeeded': {
    path: [state],
    command: 'cancel',
    ...(deadline && { deadline }),
  } satisfies SagaTransition,
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
  // Forced compensation: as the customer's cancel, for a saga an operator decided to stop.
  'operator-cancel': cancelHeldStock('operator'),
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
    ...retry('STARTED', 'create', 'stock'),
    'operator-cancel': { path: ['CANCELLED'], command: 'cancel', reason: 'operator' },
  },
  STOCK_RESERVED: {
    'payment-pending': { path: ['PAYMENT_PENDING'], deadline: 'unchanged' },
    ...AWAITING_PAYMENT,
    ...retry('STOCK_RESERVED', 'request-payment', 'payment'),
  },
  // The payment was requested on entering STOCK_RESERVED.
  PAYMENT_PENDING: {
    ...AWAITING_PAYMENT,
    ...retry('PAYMENT_PENDING', 'request-payment', 'payment', 'STOCK_RESERVED'),
  },
  COMPENSATING: {
    'stock-released': { path: ['CANCELLED'] },
    'stock-expired': { path: ['CANCELLED'] },
    deadline: { path: ['FAILED'], command: 'fail', reason: 'stock release not confirmed in time' },
    // The release is asked for again; the saga keeps the reason it is compensating for.
    ...retry('COMPENSATING', 'cancel', 'compensation'),
    ...refundLatePayment('COMPENSATING', 'unchanged'),
  },
  STOCK_FAILED: {},
  PAYMENT_FAILED: {},
  COMPLETED: {},
  CANCELLED: refundLatePayment('CANCELLED'),
  FAILED: {
    ...refundLatePayment('FAILED'),
    // Compensate again, once an operator has fixed what kept the release from being confirmed.
    'operator-cancel': cancelHeldStock('operator'),
    // A person has undone by hand what compensation could not: the saga is closed.
    'operator-resolve': { path: ['RESOLVED'], command: 'resolve' },
  },
  RESOLVED: refundLatePayment('RESOLVED'),
};

export function transitionFor(state: SagaState, trigger: SagaTrigger): SagaTransition | undefined {
  return ORDER_SAGA[state][trigger];
}

/** The operator actions the table allows in `state`. */
export function operatorActionsIn(state: SagaState): SagaAction[] {
  return SAGA_ACTIONS.filter((action) => transitionFor(state, `operator-${action}`) !== undefined);
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
    // Resolved by hand after its compensation failed: the order did not go through.
    case 'CANCELLED':
    case 'RESOLVED':
      return 'CANCELLED';
    case 'FAILED':
      return 'FAILED';
  }
}
