import { OrderSide } from '@lib/contracts';
import { signedQuantity } from './position';

/** Limits a strategy declares; every order is checked against them before it is sent. */
export interface RiskLimits {
  /** Largest position, long or short, once every open order is filled. */
  maxPosition: number;
  maxOrderQty: number;
  /** Orders sent (not counting rejected ones) in any trailing minute. */
  maxOrdersPerMinute: number;
}

export interface ProposedOrder {
  side: OrderSide;
  quantity: number;
  /** The position plus what the open orders would still add. */
  exposure: number;
  ordersLastMinute: number;
}

/** The first limit the order would break, as `<limit>: <why>`; undefined when it may go. */
export function riskBreach(limits: RiskLimits, order: ProposedOrder): string | undefined {
  if (order.quantity > limits.maxOrderQty) {
    return `max-order-qty: ${order.quantity} units exceed the limit of ${limits.maxOrderQty}`;
  }
  const after = order.exposure + signedQuantity(order.side, order.quantity);
  if (Math.abs(after) > limits.maxPosition) {
    return `max-position: ${order.side} ${order.quantity} would take the position to ${after}, beyond ±${limits.maxPosition}`;
  }
  if (order.ordersLastMinute >= limits.maxOrdersPerMinute) {
    return `max-orders-per-minute: ${order.ordersLastMinute} orders sent in the last minute, the limit is ${limits.maxOrdersPerMinute}`;
  }
  return undefined;
}
