import { query } from '../harness/database';
import { TradingSystem } from '../harness/trading-system';

describe('trading on two instances', () => {
  let trading: TradingSystem;

  beforeAll(async () => {
    trading = await TradingSystem.start(2);
  }, 120_000);

  afterAll(async () => {
    await trading?.stop();
  });

  it('moves a live strategy to the other instance when its holder is killed, without a duplicate order', async () => {
    const strategyId = await trading.create();
    await trading.command(strategyId, 'deploy');
    const before = await trading.until(
      strategyId,
      (s) => s.recentOrders.filter((o) => o.status === 'FILLED').length >= 2,
      'two filled orders',
    );
    const holder = trading.instanceNamed(before.tickedBy);
    expect(holder).toBeDefined();
    const [survivor] = trading.instances.filter((instance) => instance !== holder);
    await trading.kill(holder!);

    const killedAt = before.tick;
    await trading.until(
      strategyId,
      (s) =>
        trading.instanceNamed(s.tickedBy) === survivor &&
        s.recentOrders.filter((o) => o.tick > killedAt && o.status === 'FILLED').length >= 2,
      'the survivor to trade two more orders',
    );
    await trading.command(strategyId, 'stop');

    const orders = await trading.orders(strategyId);
    const sent = orders.filter((o) => o.status !== 'REJECTED');
    expect(sent.length).toBeGreaterThanOrEqual(4);
    // The exchange holds exactly the orders the strategy decided, each once.
    const book = await query<{ client_order_id: string }>(
      'SELECT client_order_id FROM trading.paper_exchange_orders ORDER BY client_order_id',
    );
    expect(book.map((row) => row.client_order_id)).toEqual(sent.map((o) => o.id).sort());

    await trading.relayed();
    const events = await trading.events(strategyId);
    const submitted = events
      .filter((e) => e.eventName === 'trading.order.submitted')
      .map((e) => e.payload.orderId);
    expect(new Set(submitted).size).toBe(submitted.length);
    expect(submitted.sort()).toEqual(sent.map((o) => o.id).sort());
    const fillIds = events
      .filter((e) => e.eventName === 'trading.order.filled')
      .map((e) => e.payload.fillId);
    expect(new Set(fillIds).size).toBe(fillIds.length);
    // Every fill counted once in the position, whichever instance applied it.
    const settled = await trading.untilSettled(strategyId);
    expect((await trading.strategy(strategyId)).position).toBe(trading.filledPosition(settled));
  }, 120_000);
});
