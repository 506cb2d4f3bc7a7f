import { SimulatedFeed } from './simulated.feed';

describe('simulated feed', () => {
  it('gives the same prices for the same seed, symbol and ticks', async () => {
    expect(await new SimulatedFeed(7).prices('BTC-USD', 10, 5)).toEqual(
      await new SimulatedFeed(7).prices('BTC-USD', 10, 5),
    );
  });

  it('differs by seed and by symbol', () => {
    const feed = new SimulatedFeed(7);
    expect(feed.priceAt('BTC-USD', 3)).not.toBe(new SimulatedFeed(8).priceAt('BTC-USD', 3));
    expect(feed.priceAt('BTC-USD', 3)).not.toBe(feed.priceAt('ETH-USD', 3));
  });

  it('returns the window up to the tick, oldest first, including ticks before the first', async () => {
    const feed = new SimulatedFeed(1);
    expect(await feed.prices('AAPL', 1, 3)).toEqual([
      feed.priceAt('AAPL', -1),
      feed.priceAt('AAPL', 0),
      feed.priceAt('AAPL', 1),
    ]);
  });

  it('moves: positive prices that rise and fall over a cycle', async () => {
    const prices = await new SimulatedFeed(42).prices('BTC-USD', 40, 40);
    expect(Math.min(...prices)).toBeGreaterThan(0);
    const moves = prices.slice(1).map((price, i) => Math.sign(price - prices[i]!));
    expect(moves).toContain(1);
    expect(moves).toContain(-1);
  });
});
