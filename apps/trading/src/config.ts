import { BaseConfig, IntVariable } from '@lib/platform';

export class TradingConfig extends BaseConfig {
  override PORT = 3004;

  /** How often each instance ticks the live strategies it holds, and picks up unheld ones. */
  @IntVariable('TRADING_TICK_INTERVAL_MS', 10)
  TRADING_TICK_INTERVAL_MS = 1000;

  /** Seed of the simulated market-data feed: the same seed gives every instance the same prices. */
  @IntVariable('MARKET_DATA_SEED', 0)
  MARKET_DATA_SEED = 42;

  /** Paper exchange: delay before an accepted order's first fill, and between its parts (ms). */
  @IntVariable('PAPER_LATENCY_MS', 0)
  PAPER_LATENCY_MS = 200;

  /** Paper exchange: price slippage against the taker, in basis points of the feed price. */
  @IntVariable('PAPER_SLIPPAGE_BPS', 0, 1000)
  PAPER_SLIPPAGE_BPS = 5;

  /** Paper exchange: the number of fills an order is split into (1 fills it whole). */
  @IntVariable('PAPER_FILL_PARTS', 1, 10)
  PAPER_FILL_PARTS = 2;

  /** Paper exchange: larger orders are rejected, as a venue's lot limit would. */
  @IntVariable('PAPER_MAX_ORDER_QTY', 1)
  PAPER_MAX_ORDER_QTY = 1_000_000;
}
