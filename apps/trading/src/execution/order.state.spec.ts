import {
  IllegalOrderTransition,
  OPEN_ORDER_STATUSES,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  OrderEvent,
  OrderStatus,
  orderTransition,
} from './order.state';

function run(...events: OrderEvent[]): OrderStatus {
  return events.reduce<OrderStatus>((status, event) => orderTransition(status, event), 'NEW');
}

describe('order lifecycle', () => {
  it('fills in parts: NEW → SUBMITTED → PARTIALLY_FILLED → FILLED', () => {
    expect(run('accept')).toBe('SUBMITTED');
    expect(run('accept', 'fill')).toBe('PARTIALLY_FILLED');
    expect(run('accept', 'fill', 'fill')).toBe('PARTIALLY_FILLED');
    expect(run('accept', 'fill', 'final-fill')).toBe('FILLED');
    expect(run('accept', 'final-fill')).toBe('FILLED');
  });

  it('is rejected before sending (risk) or by the exchange', () => {
    expect(run('reject')).toBe('REJECTED');
    expect(run('accept', 'reject')).toBe('REJECTED');
  });

  it('cancels what is left when its strategy stops', () => {
    expect(run('accept', 'cancel')).toBe('CANCELLED');
    expect(run('accept', 'fill', 'cancel')).toBe('CANCELLED');
  });

  it.each<[OrderEvent[], OrderEvent]>([
    [[], 'fill'],
    [[], 'cancel'],
    [['accept'], 'accept'],
    [['accept', 'fill'], 'reject'],
    [['accept', 'final-fill'], 'fill'],
    [['accept', 'final-fill'], 'cancel'],
    [['reject'], 'accept'],
    [['accept', 'cancel'], 'final-fill'],
  ])('after %j refuses %s with a typed error', (before, event) => {
    const status = run(...before);
    expect(() => orderTransition(status, event)).toThrow(IllegalOrderTransition);
  });

  it('ends FILLED, CANCELLED and REJECTED, and only those', () => {
    const final = ORDER_STATUSES.filter((s) => Object.keys(ORDER_TRANSITIONS[s]).length === 0);
    expect(final).toEqual(['FILLED', 'CANCELLED', 'REJECTED']);
    expect(ORDER_STATUSES.filter((s) => !final.includes(s))).toEqual(OPEN_ORDER_STATUSES);
  });
});
