import { OrderSide } from '@lib/contracts';

/** A strategy's holding at average cost. Pure, no Nest. */
export interface Position {
  /** Signed units: long above zero, short below. */
  quantity: number;
  /** Average entry price of the open units; 0 when flat. */
  averagePrice: number;
  /** Profit and loss locked in by fills that reduced the position. */
  realisedPnl: number;
}

export const FLAT: Position = { quantity: 0, averagePrice: 0, realisedPnl: 0 };

export function signedQuantity(side: OrderSide, quantity: number): number {
  return side === 'buy' ? quantity : -quantity;
}

/**
 * Average-cost accounting: a fill in the direction of the position moves the average; one against
 * it realises the difference on the units it closes, and any excess opens the other way at the
 * fill price.
 */
export function applyFill(
  position: Position,
  side: OrderSide,
  quantity: number,
  price: number,
): Position {
  const delta = signedQuantity(side, quantity);
  const { quantity: held, averagePrice, realisedPnl } = position;
  if (held === 0 || Math.sign(held) === Math.sign(delta)) {
    const total = Math.abs(held) + quantity;
    return {
      quantity: held + delta,
      averagePrice: (Math.abs(held) * averagePrice + quantity * price) / total,
      realisedPnl,
    };
  }
  const closed = Math.min(quantity, Math.abs(held));
  const after = held + delta;
  return {
    quantity: after,
    averagePrice: after === 0 ? 0 : Math.sign(after) === Math.sign(held) ? averagePrice : price,
    realisedPnl: realisedPnl + closed * (price - averagePrice) * Math.sign(held),
  };
}

/** What the open units would gain or lose if closed at `price`. */
export function unrealisedPnl(position: Position, price: number | null): number {
  if (position.quantity === 0 || price === null) return 0;
  return position.quantity * (price - position.averagePrice);
}
