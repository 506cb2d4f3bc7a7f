import { ConfigError, loadConfig } from '@lib/platform';
import { TradingConfig } from './config';

describe('TradingConfig', () => {
  it('ticks every second on a seeded feed and a paper exchange by default', () => {
    expect(loadConfig(TradingConfig, {})).toMatchObject({
      PORT: 3004,
      TRADING_TICK_INTERVAL_MS: 1000,
      MARKET_DATA_SEED: 42,
      PAPER_LATENCY_MS: 200,
      PAPER_SLIPPAGE_BPS: 5,
      PAPER_FILL_PARTS: 2,
      PAPER_MAX_ORDER_QTY: 1_000_000,
    });
  });

  it.each([
    ['TRADING_TICK_INTERVAL_MS', '5', 'TRADING_TICK_INTERVAL_MS must be at least 10'],
    ['MARKET_DATA_SEED', 'abc', 'MARKET_DATA_SEED must be an integer'],
    ['PAPER_LATENCY_MS', '-1', 'PAPER_LATENCY_MS must be at least 0'],
    ['PAPER_SLIPPAGE_BPS', '1001', 'PAPER_SLIPPAGE_BPS must be between 0 and 1000'],
    ['PAPER_FILL_PARTS', '0', 'PAPER_FILL_PARTS must be between 1 and 10'],
    ['PAPER_MAX_ORDER_QTY', '2.5', 'PAPER_MAX_ORDER_QTY must be an integer'],
  ])('rejects %s=%s naming it', (name, value, message) => {
    expect(() => loadConfig(TradingConfig, { [name]: value })).toThrow(
      new ConfigError(`Invalid configuration: ${message}`),
    );
  });
});
