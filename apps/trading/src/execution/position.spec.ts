import { applyFill, FLAT, Position, unrealisedPnl } from './position';

function fills(...trades: ['buy' | 'sell', number, number][]): Position {
  return trades.reduce((p, [side, qty, price]) => applyFill(p, side, qty, price), FLAT);
}

describe('position at average cost', () => {
  it('averages fills in the same direction', () => {
    expect(fills(['buy', 2, 100], ['buy', 2, 110])).toEqual({
      quantity: 4,
      averagePrice: 105,
      realisedPnl: 0,
    });
  });

  it('realises the gain of the units a sell closes, and keeps the average of the rest', () => {
    expect(fills(['buy', 4, 100], ['sell', 1, 120])).toEqual({
      quantity: 3,
      averagePrice: 100,
      realisedPnl: 20,
    });
  });

  it('realises a short covered higher as a loss and is flat after', () => {
    expect(fills(['sell', 2, 100], ['buy', 2, 103])).toEqual({
      quantity: 0,
      averagePrice: 0,
      realisedPnl: -6,
    });
  });

  it('flips through zero: the excess opens at the fill price', () => {
    expect(fills(['buy', 2, 100], ['sell', 5, 90])).toEqual({
      quantity: -3,
      averagePrice: 90,
      realisedPnl: -20,
    });
  });

  it('values the open units at the last price', () => {
    expect(unrealisedPnl(fills(['sell', 3, 100]), 95)).toBe(15);
    expect(unrealisedPnl(FLAT, 95)).toBe(0);
    expect(unrealisedPnl(fills(['buy', 1, 100]), null)).toBe(0);
  });
});
