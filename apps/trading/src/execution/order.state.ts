/** The life of one strategy order. Pure, no Nest. */
export const ORDER_STATUSES = [
  'NEW',
  'SUBMITTED',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCELLED',
  'REJECTED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Orders the exchange may still fill (or, for NEW, has perhaps not seen yet). */
export const OPEN_ORDER_STATUSES: readonly OrderStatus[] = ['NEW', 'SUBMITTED', 'PARTIALLY_FILLED'];

/**
 * `reject`: the risk limits (before sending) or the exchange refused it. `fill` and `final-fill`:
 * a fill that leaves units open, or the one that completes the order. `cancel`: the rest of an
 * order is withdrawn when its strategy stops.
 */
export type OrderEvent = 'accept' | 'reject' | 'fill' | 'final-fill' | 'cancel';

const WORKING: Partial<Record<OrderEvent, OrderStatus>> = {
  fill: 'PARTIALLY_FILLED',
  'final-fill': 'FILLED',
  cancel: 'CANCELLED',
};

export const ORDER_TRANSITIONS: Record<OrderStatus, Partial<Record<OrderEvent, OrderStatus>>> = {
  NEW: { accept: 'SUBMITTED', reject: 'REJECTED' },
  SUBMITTED: { ...WORKING, reject: 'REJECTED' },
  PARTIALLY_FILLED: WORKING,
  FILLED: {},
  CANCELLED: {},
  REJECTED: {},
};

export class IllegalOrderTransition extends Error {
  override readonly name = 'IllegalOrderTransition';
  constructor(
    readonly status: OrderStatus,
    readonly event: OrderEvent,
  ) {
    super(`an order in ${status} cannot take ${event}`);
  }
}

export function orderTransition(status: OrderStatus, event: OrderEvent): OrderStatus {
  const next = ORDER_TRANSITIONS[status][event];
  if (!next) throw new IllegalOrderTransition(status, event);
  return next;
}
