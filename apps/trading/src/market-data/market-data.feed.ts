/**
 * Prices for the strategies. Ticks number a strategy's decisions (1, 2, …): the simulated feed is a
 * pure function of (seed, symbol, tick), so whichever instance runs tick n sees the same market; a
 * feed of a real market returns its latest prices whatever the tick.
 */
export interface MarketDataFeed {
  /** The `count` prices of `symbol` up to and including `tick`, oldest first. */
  prices(symbol: string, tick: number, count: number): Promise<number[]>;
}

export const MARKET_DATA_FEED = Symbol('MARKET_DATA_FEED');
