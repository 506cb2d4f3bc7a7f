import { historyLength, StrategySpec, targetPosition } from './strategy-kinds';

describe('moving-average crossover', () => {
  const spec: StrategySpec = {
    kind: 'ma-crossover',
    params: { fastPeriod: 2, slowPeriod: 4, quantity: 3 },
  };

  it('reads the slow window plus the price before it', () => {
    expect(historyLength(spec)).toBe(5);
  });

  it('goes long when the fast average crosses above the slow one', () => {
    expect(targetPosition(spec, [10, 10, 10, 10, 12])).toBe(3);
  });

  it('goes short when it crosses below', () => {
    expect(targetPosition(spec, [10, 10, 10, 10, 8])).toBe(-3);
  });

  it('keeps its position while the averages do not cross', () => {
    expect(targetPosition(spec, [10, 11, 12, 13, 14])).toBeUndefined();
    expect(targetPosition(spec, [14, 13, 12, 11, 10])).toBeUndefined();
  });

  it('waits for enough history', () => {
    expect(targetPosition(spec, [10, 10, 12])).toBeUndefined();
  });
});

describe('grid', () => {
  const spec: StrategySpec = {
    kind: 'grid',
    params: { center: 100, spacing: 2, levels: 3, quantityPerLevel: 5 },
  };

  it('reads the current price only', () => {
    expect(historyLength(spec)).toBe(1);
  });

  it.each([
    [100, 0],
    [100.9, 0],
    [98, 5],
    [101.2, -5],
    [104, -10],
    [94, 15],
    [80, 15],
    [130, -15],
  ])('at %d holds %d', (price, position) => {
    expect(targetPosition(spec, [price])).toBe(position);
  });
});
