import { riskBreach, RiskLimits } from './risk-limits';

const limits: RiskLimits = { maxPosition: 10, maxOrderQty: 5, maxOrdersPerMinute: 3 };
const order = { side: 'buy' as const, quantity: 5, exposure: 0, ordersLastMinute: 0 };

describe('risk limits', () => {
  it('lets an order within every limit go', () => {
    expect(riskBreach(limits, order)).toBeUndefined();
    expect(riskBreach(limits, { ...order, side: 'sell', exposure: -5 })).toBeUndefined();
    expect(riskBreach(limits, { ...order, side: 'sell', exposure: 10 })).toBeUndefined();
  });

  it.each([
    ['an order too large', { quantity: 6 }, 'max-order-qty: 6 units exceed the limit of 5'],
    [
      'a position too long once open orders fill',
      { exposure: 6 },
      'max-position: buy 5 would take the position to 11, beyond ±10',
    ],
    [
      'a position too short',
      { side: 'sell' as const, exposure: -8 },
      'max-position: sell 5 would take the position to -13, beyond ±10',
    ],
    [
      'too many orders in a minute',
      { ordersLastMinute: 3 },
      'max-orders-per-minute: 3 orders sent in the last minute, the limit is 3',
    ],
  ])('rejects %s, naming the limit', (_case, change, reason) => {
    expect(riskBreach(limits, { ...order, ...change })).toBe(reason);
  });
});
