/**
 * Units of one product. On hand (not yet sold) = available + reserved; sold = committed. The sum of
 * the three is every unit ever put on hand, and no move changes it.
 */
export interface StockLevels {
  sku: string;
  available: number;
  reserved: number;
  committed: number;
  lowStockThreshold: number;
  /** The alert for the current stay below the threshold has been published. */
  lowStockAlerted: boolean;
}

export type StockMove = 'reserve' | 'release' | 'commit';

export function moveStock(stock: StockLevels, move: StockMove, quantity: number): void {
  switch (move) {
    case 'reserve':
      stock.available -= quantity;
      stock.reserved += quantity;
      break;
    case 'release':
      stock.reserved -= quantity;
      stock.available += quantity;
      break;
    case 'commit':
      stock.reserved -= quantity;
      stock.committed += quantity;
      break;
  }
}

/**
 * Settles the low-stock flag for the current `available`: true when it has just fallen below the
 * threshold (one alert per crossing); back at or above the threshold re-arms the alert.
 */
export function crossedBelowThreshold(stock: StockLevels): boolean {
  const low = stock.available < stock.lowStockThreshold;
  const crossed = low && !stock.lowStockAlerted;
  stock.lowStockAlerted = low;
  return crossed;
}
