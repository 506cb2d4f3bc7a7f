import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openAppDataSource } from '@lib/persistence';
import { appDataSourceOptions, loadConfig } from '@lib/platform';
import { freshSchema, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { TradingConfig } from '../config';
import { tradingPersistence } from '../persistence';
import { ExchangeOrderRequest } from './exchange.connector';
import { PaperExchange } from './paper.exchange';

const SCHEMA = 'trading_paper_test';

describe('paper exchange', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    await freshSchema(SCHEMA);
    dataSource = await openAppDataSource(
      appDataSourceOptions(TEST_DATABASE_URL, { ...tradingPersistence, schema: SCHEMA }),
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  function exchange(env: Record<string, string>): PaperExchange {
    return new PaperExchange(dataSource, loadConfig(TradingConfig, env));
  }

  function order(change: Partial<ExchangeOrderRequest> = {}): ExchangeOrderRequest {
    return {
      clientOrderId: randomUUID(),
      symbol: 'BTC-USD',
      side: 'buy',
      quantity: 5,
      referencePrice: 100,
      ...change,
    };
  }

  it('fills in parts at the feed price moved against the taker by the slippage', async () => {
    const paper = exchange({
      PAPER_LATENCY_MS: '0',
      PAPER_FILL_PARTS: '3',
      PAPER_SLIPPAGE_BPS: '10',
    });
    const buy = order();
    expect(await paper.submit(buy)).toEqual({ accepted: true });
    expect(await paper.fills(buy.clientOrderId)).toEqual([
      { fillId: `${buy.clientOrderId}:1`, quantity: 2, price: 100.1 },
      { fillId: `${buy.clientOrderId}:2`, quantity: 2, price: 100.1 },
      { fillId: `${buy.clientOrderId}:3`, quantity: 1, price: 100.1 },
    ]);
    const sell = order({ side: 'sell', quantity: 1 });
    await paper.submit(sell);
    // Never more parts than units.
    expect(await paper.fills(sell.clientOrderId)).toEqual([
      { fillId: `${sell.clientOrderId}:1`, quantity: 1, price: 99.9 },
    ]);
  });

  it('keeps one order per client order id however often it is submitted', async () => {
    const paper = exchange({ PAPER_LATENCY_MS: '0' });
    const first = order();
    await paper.submit(first);
    expect(await paper.submit({ ...first, quantity: 7, referencePrice: 120 })).toEqual({
      accepted: true,
    });
    const rows = await dataSource.query<{ quantity: number; submissions: number }[]>(
      `SELECT quantity, submissions FROM ${SCHEMA}.paper_exchange_orders WHERE client_order_id = $1`,
      [first.clientOrderId],
    );
    expect(rows).toEqual([{ quantity: 5, submissions: 2 }]);
  });

  it('fills nothing before its latency, nor after a cancel', async () => {
    const paper = exchange({ PAPER_LATENCY_MS: '3600000' });
    const slow = order();
    await paper.submit(slow);
    expect(await paper.fills(slow.clientOrderId)).toEqual([]);
    await paper.cancel(slow.clientOrderId);
    // Two hours later: the parts fell due after the cancel, so they never fill.
    await dataSource.query(
      `UPDATE ${SCHEMA}.paper_exchange_orders SET accepted_at = accepted_at - interval '2 hours',
            cancelled_at = cancelled_at - interval '2 hours'
        WHERE client_order_id = $1`,
      [slow.clientOrderId],
    );
    expect(await paper.fills(slow.clientOrderId)).toEqual([]);
  });

  it('rejects an order above its size limit, and answers the same on a resubmit', async () => {
    const paper = exchange({ PAPER_MAX_ORDER_QTY: '4' });
    const big = order();
    const rejected = { accepted: false, reason: "quantity 5 is above the venue's limit of 4" };
    expect(await paper.submit(big)).toEqual(rejected);
    expect(await paper.submit(big)).toEqual(rejected);
    expect(await paper.fills(big.clientOrderId)).toEqual([]);
  });

  it('knows no fills of an order it never received', async () => {
    expect(await exchange({}).fills(randomUUID())).toEqual([]);
  });
});
