import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TradingOrderFilledV1, TradingOrderSubmittedV1 } from '@lib/contracts';
import {
  MESSAGING_DEFAULTS,
  NatsClient,
  Outbox,
  OutboxPublisher,
  OutboxRecord,
} from '@lib/messaging';
import { openAppDataSource } from '@lib/persistence';
import { appDataSourceOptions, loadConfig } from '@lib/platform';
import { freshSchema, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { TradingConfig } from '../config';
import { PaperExchange } from '../exchange/paper.exchange';
import { PaperExchangeOrder } from '../exchange/paper-exchange-order.entity';
import { SimulatedFeed } from '../market-data/simulated.feed';
import { tradingPersistence } from '../persistence';
import { Strategy } from '../strategies/strategy.entity';
import { StrategyState } from '../strategies/strategy.state';
import { StrategyExecution } from './strategy-execution';
import { TradingOrder } from './trading-order.entity';

const TRADING_NATS = { ...MESSAGING_DEFAULTS, service: 'trading' };

const SCHEMA = 'trading_execution_test';

/**
 * The steps a lease holder takes, run as a takeover or a second holder would run them, against
 * real Postgres and the paper exchange. Events stay in the outbox: no NATS is needed to see them.
 */
describe('strategy execution', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    // No app here to route Nest's logger into quiet JSON: keep the decisions out of the test output.
    Logger.overrideLogger(['error']);
    await freshSchema(SCHEMA);
    dataSource = await openAppDataSource(
      appDataSourceOptions(TEST_DATABASE_URL, { ...tradingPersistence, schema: SCHEMA }),
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  function execution(paper: Record<string, string> = {}) {
    const exchange = new PaperExchange(
      dataSource,
      loadConfig(TradingConfig, { PAPER_LATENCY_MS: '0', PAPER_FILL_PARTS: '2', ...paper }),
    );
    return {
      exchange,
      run: new StrategyExecution(
        dataSource,
        // Never started: the rows stay in the outbox, where these tests read them.
        new Outbox(dataSource, new OutboxPublisher(dataSource, new NatsClient(TRADING_NATS))),
        new SimulatedFeed(42),
        exchange,
      ),
    };
  }

  /** A grid far above the BTC-USD price: it wants to be 3 levels long, 6 units. */
  async function strategy(state: StrategyState = 'Live', tick = 0): Promise<Strategy> {
    return dataSource.getRepository(Strategy).save({
      id: randomUUID(),
      tenantId: 't1',
      createdBy: 'trader-1',
      name: 'test grid',
      symbol: 'BTC-USD',
      kind: 'grid',
      params: { center: 200, spacing: 1, levels: 3, quantityPerLevel: 2 },
      maxPosition: 100,
      maxOrderQty: 100,
      maxOrdersPerMinute: 100,
      state,
      pendingCommand: null,
      tick,
      quantity: 0,
      averagePrice: 0,
      realisedPnl: 0,
      lastPrice: null,
      tickedBy: null,
    });
  }

  async function recordNew(s: Strategy, tick: number): Promise<TradingOrder> {
    return dataSource.getRepository(TradingOrder).save({
      id: randomUUID(),
      strategyId: s.id,
      tenantId: s.tenantId,
      tick,
      symbol: s.symbol,
      side: 'buy',
      quantity: 6,
      referencePrice: 60,
      status: 'NEW',
      filledQuantity: 0,
      averageFillPrice: null,
      reason: null,
    });
  }

  const orders = (strategyId: string) =>
    dataSource.getRepository(TradingOrder).find({ where: { strategyId }, order: { tick: 'ASC' } });
  const book = (clientOrderId: string) =>
    dataSource.getRepository(PaperExchangeOrder).findBy({ clientOrderId });
  const outbox = async (subject: string, orderId: string) =>
    (await dataSource.getRepository(OutboxRecord).findBy({ subject })).filter((row) =>
      row.body.includes(orderId),
    );

  it('sends an order the dead holder recorded and had already sent once more, and the exchange keeps one', async () => {
    const { exchange, run } = execution();
    const s = await strategy('Live', 1);
    const order = await recordNew(s, 1);
    // The dead holder's send, whose answer it never recorded.
    await exchange.submit({
      clientOrderId: order.id,
      symbol: 'BTC-USD',
      side: 'buy',
      quantity: 6,
      referencePrice: 60,
    });

    await run.tick(s.id, 'next-holder');

    expect(await book(order.id)).toEqual([
      expect.objectContaining({ quantity: 6, submissions: 2 }),
    ]);
    const [taken] = await orders(s.id);
    expect(taken).toMatchObject({ id: order.id, status: 'SUBMITTED' });
    const submitted = await outbox(TradingOrderSubmittedV1.subject, order.id);
    expect(submitted.map((row) => JSON.parse(row.body) as unknown)).toEqual([
      expect.objectContaining({ correlationId: s.id, tenantId: 't1' }),
    ]);
    // Its units count as exposure: tick 2 wants nothing more.
    expect(await orders(s.id)).toHaveLength(1);
    expect(await dataSource.getRepository(Strategy).findOneByOrFail({ id: s.id })).toMatchObject({
      tick: 2,
      tickedBy: 'next-holder',
    });
  });

  it('decides a tick once when two holders run it at the same moment', async () => {
    const { run } = execution();
    const s = await strategy();
    await Promise.all([run.tick(s.id, 'a'), run.tick(s.id, 'b')]);
    const decided = await orders(s.id);
    expect(decided).toEqual([expect.objectContaining({ tick: 1, quantity: 6, side: 'buy' })]);
    expect(await book(decided[0]!.id)).toEqual([expect.objectContaining({ submissions: 1 })]);
    expect((await dataSource.getRepository(Strategy).findOneByOrFail({ id: s.id })).tick).toBe(1);
  });

  it('applies each fill once when two holders read them at the same moment', async () => {
    const { run } = execution();
    const s = await strategy();
    await run.tick(s.id, 'a');
    await Promise.all([run.tick(s.id, 'a'), run.tick(s.id, 'b')]);
    const [filled] = await orders(s.id);
    expect(filled).toMatchObject({ status: 'FILLED', filledQuantity: 6 });
    const fills = await outbox(TradingOrderFilledV1.subject, filled!.id);
    expect(fills.map((row) => JSON.parse(row.body) as unknown)).toEqual([
      expect.objectContaining({ tenantId: 't1' }),
      expect.objectContaining({ tenantId: 't1' }),
    ]);
    expect(await dataSource.getRepository(Strategy).findOneByOrFail({ id: s.id })).toMatchObject({
      quantity: 6,
    });
  });

  it('never ticks a stopped strategy, and cancels what its orders have not filled', async () => {
    const { run } = execution({ PAPER_LATENCY_MS: '3600000' });
    const s = await strategy();
    await run.tick(s.id, 'a');
    await dataSource.getRepository(Strategy).update({ id: s.id }, { state: 'Stopped' });

    await run.tick(s.id, 'a');
    await run.windDown(s.id);

    const [cancelled] = await orders(s.id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', filledQuantity: 0 });
    expect((await book(cancelled!.id))[0]?.cancelledAt).toBeInstanceOf(Date);
    expect(await dataSource.getRepository(Strategy).findOneByOrFail({ id: s.id })).toMatchObject({
      tick: 1,
      quantity: 0,
    });
  });

  it('sends a stopped strategy’s NEW order before cancelling it, so the exchange cannot keep it open', async () => {
    const { run } = execution({ PAPER_LATENCY_MS: '3600000' });
    const s = await strategy('Stopped', 1);
    const order = await recordNew(s, 1);
    await run.windDown(s.id);
    expect(await book(order.id)).toEqual([
      expect.objectContaining({ submissions: 1, cancelledAt: expect.any(Date) }),
    ]);
    expect((await orders(s.id))[0]).toMatchObject({ status: 'CANCELLED' });
  });
});
