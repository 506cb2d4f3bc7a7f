/** What each kind of strategy wants to hold, given the prices. Pure, no Nest. */
export interface MaCrossoverParams {
  fastPeriod: number;
  slowPeriod: number;
  /** Units held long after an upward cross, short after a downward one. */
  quantity: number;
}

export interface GridParams {
  /** The price around which the grid is laid. */
  center: number;
  /** Price distance between two levels. */
  spacing: number;
  /** Levels on each side of the center; beyond the last one the position stays the same. */
  levels: number;
  quantityPerLevel: number;
}

export type StrategySpec =
  { kind: 'ma-crossover'; params: MaCrossoverParams } | { kind: 'grid'; params: GridParams };

/** How many prices, the current one last, a decision reads. */
export function historyLength(spec: StrategySpec): number {
  switch (spec.kind) {
    case 'ma-crossover':
      return spec.params.slowPeriod + 1;
    case 'grid':
      return 1;
  }
}

/**
 * The position the strategy wants after seeing `prices` (oldest first, current last), or undefined
 * when it has no new view and keeps what it holds.
 */
export function targetPosition(spec: StrategySpec, prices: readonly number[]): number | undefined {
  switch (spec.kind) {
    case 'ma-crossover':
      return crossoverTarget(spec.params, prices);
    case 'grid':
      return gridTarget(spec.params, prices[prices.length - 1]!);
  }
}

/** Long after the fast average crosses above the slow one, short after it crosses below. */
function crossoverTarget(params: MaCrossoverParams, prices: readonly number[]): number | undefined {
  const { fastPeriod, slowPeriod, quantity } = params;
  if (prices.length < slowPeriod + 1) return undefined;
  const now = prices.slice(1);
  const before = prices.slice(0, -1);
  const spreadNow = average(now, fastPeriod) - average(now, slowPeriod);
  const spreadBefore = average(before, fastPeriod) - average(before, slowPeriod);
  if (spreadBefore <= 0 && spreadNow > 0) return quantity;
  if (spreadBefore >= 0 && spreadNow < 0) return -quantity;
  return undefined;
}

/** Buys a level's quantity for every level the price is below the center, sells above. */
function gridTarget(params: GridParams, price: number): number {
  const { center, spacing, levels, quantityPerLevel } = params;
  const level = Math.max(-levels, Math.min(levels, Math.round((price - center) / spacing)));
  return level === 0 ? 0 : -level * quantityPerLevel;
}

/** The average of the last `period` values. */
function average(values: readonly number[], period: number): number {
  const window = values.slice(-period);
  return window.reduce((sum, value) => sum + value, 0) / window.length;
}
