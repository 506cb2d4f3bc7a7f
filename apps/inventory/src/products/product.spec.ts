import { crossedBelowThreshold, moveStock, StockLevels, StockMove } from './product';

function stock(levels: Partial<StockLevels> = {}): StockLevels {
  return {
    sku: 'SKU-1',
    available: 10,
    reserved: 0,
    committed: 0,
    lowStockThreshold: 3,
    lowStockAlerted: false,
    ...levels,
  };
}

describe('moveStock', () => {
  it.each<[StockMove, Partial<StockLevels>]>([
    ['reserve', { available: 6, reserved: 6, committed: 2 }],
    ['release', { available: 10, reserved: 2, committed: 2 }],
    ['commit', { available: 8, reserved: 2, committed: 4 }],
  ])('%s moves units between buckets and keeps their sum', (move, expected) => {
    const levels = stock({ available: 8, reserved: 4, committed: 2 });
    moveStock(levels, move, 2);
    expect(levels).toMatchObject(expected);
    expect(levels.available + levels.reserved + levels.committed).toBe(14);
  });
});

describe('crossedBelowThreshold', () => {
  it('alerts once per crossing and re-arms at the threshold', () => {
    const levels = stock({ available: 3 });
    expect(crossedBelowThreshold(levels)).toBe(false);
    levels.available = 2;
    expect(crossedBelowThreshold(levels)).toBe(true);
    levels.available = 1;
    expect(crossedBelowThreshold(levels)).toBe(false);
    expect(levels.lowStockAlerted).toBe(true);
    levels.available = 3;
    expect(crossedBelowThreshold(levels)).toBe(false);
    expect(levels.lowStockAlerted).toBe(false);
    levels.available = 0;
    expect(crossedBelowThreshold(levels)).toBe(true);
  });

  it('never alerts with a threshold of 0', () => {
    expect(crossedBelowThreshold(stock({ available: 0, lowStockThreshold: 0 }))).toBe(false);
  });
});
