import { MarketDataFeed } from './market-data.feed';

/**
 * A deterministic market: each symbol swings around its own base price in a cycle of its own,
 * with seeded noise on top. Any tick, even before the first, has a price, so a strategy has
 * history from its first decision.
 */
export class SimulatedFeed implements MarketDataFeed {
  constructor(private readonly seed: number) {}

  prices(symbol: string, tick: number, count: number): Promise<number[]> {
    return Promise.resolve(
      Array.from({ length: count }, (_, i) => this.priceAt(symbol, tick - count + 1 + i)),
    );
  }

  priceAt(symbol: string, tick: number): number {
    const base = 50 + 100 * unit(hash(`${this.seed}:${symbol}:base`));
    const cycle = 16 + Math.floor(16 * unit(hash(`${this.seed}:${symbol}:cycle`)));
    const noise = 2 * unit(hash(`${this.seed}:${symbol}:${tick}`)) - 1;
    const price = base * (1 + 0.05 * Math.sin((2 * Math.PI * tick) / cycle) + 0.005 * noise);
    return Math.round(price * 10_000) / 10_000;
  }
}

/** FNV-1a, 32 bits. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function unit(h: number): number {
  return h / 0x1_0000_0000;
}
