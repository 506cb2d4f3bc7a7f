import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import {
  createEvent,
  EventEnvelope,
  RejectionSource,
  TradingOrderFilledV1,
  TradingOrderRejectedV1,
  TradingOrderSubmittedV1,
} from '@lib/contracts';
import { Outbox } from '@lib/messaging';
import {
  EXCHANGE_CONNECTOR,
  ExchangeConnector,
  ExchangeFill,
} from '../exchange/exchange.connector';
import { MARKET_DATA_FEED, MarketDataFeed } from '../market-data/market-data.feed';
import { historyLength, StrategySpec, targetPosition } from '../strategies/strategy-kinds';
import { Strategy } from '../strategies/strategy.entity';
import { recordPublished } from '../trading.metrics';
import { Fill } from './fill.entity';
import { OPEN_ORDER_STATUSES, orderTransition } from './order.state';
import { applyFill, Position, signedQuantity } from './position';
import { riskBreach } from './risk-limits';
import { TradingOrder } from './trading-order.entity';

/**
 * What the lease holder does for one strategy. Orders are recorded (NEW) before they are sent and
 * sent with their id as client order id: a holder that dies in between leaves a NEW order that the
 * next holder sends again, and the exchange keeps one order per client order id. Every step also
 * re-checks the database (tick number, order status, fill ids), so even two holders at once could
 * not record a tick, a transition or a fill twice.
 */
@Injectable()
export class StrategyExecution {
  private readonly logger = new Logger(StrategyExecution.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(MARKET_DATA_FEED) private readonly feed: MarketDataFeed,
    @Inject(EXCHANGE_CONNECTOR) private readonly exchange: ExchangeConnector,
  ) {}

  /** Settles the open orders, then decides the next tick and sends its order. */
  async tick(strategyId: string, instanceId: string): Promise<void> {
    await this.settleOpenOrders(strategyId);
    const strategy = await this.dataSource.getRepository(Strategy).findOneBy({ id: strategyId });
    if (strategy?.state !== 'Live') return;
    const tick = strategy.tick + 1;
    const spec = { kind: strategy.kind, params: strategy.params } as StrategySpec;
    const prices = await this.feed.prices(strategy.symbol, tick, historyLength(spec));
    const target = targetPosition(spec, prices);
    const price = prices[prices.length - 1]!;

    let published: EventEnvelope[] = [];
    // The order to send, if this tick decided one within the risk limits.
    const toSend = await this.dataSource.transaction(async (manager) => {
      const locked = await lockStrategy(manager, strategyId);
      // Stopped meanwhile, or the tick was decided elsewhere: nothing to do.
      if (locked?.state !== 'Live' || locked.tick !== tick - 1) return undefined;
      await manager.update(
        Strategy,
        { id: strategyId },
        { tick, lastPrice: price, tickedBy: instanceId },
      );
      const open = await manager.findBy(TradingOrder, {
        strategyId,
        status: In(OPEN_ORDER_STATUSES),
      });
      const exposure = open.reduce(
        (sum, o) => sum + signedQuantity(o.side, o.quantity - o.filledQuantity),
        locked.quantity,
      );
      const wanted = target === undefined ? 0 : target - exposure;
      if (wanted === 0) return undefined;
      const side = wanted > 0 ? 'buy' : 'sell';
      const quantity = Math.abs(wanted);
      const breach = riskBreach(locked, {
        side,
        quantity,
        exposure,
        ordersLastMinute: await ordersLastMinute(manager, strategyId),
      });
      const order: TradingOrder = manager.create(TradingOrder, {
        id: randomUUID(),
        strategyId,
        tenantId: locked.tenantId,
        tick,
        symbol: locked.symbol,
        side,
        quantity,
        referencePrice: price,
        status: breach ? orderTransition('NEW', 'reject') : 'NEW',
        filledQuantity: 0,
        averageFillPrice: null,
        reason: breach ?? null,
      });
      await manager.insert(TradingOrder, order);
      if (breach) {
        published = [rejectedEvent(order, 'risk', breach)];
        await this.outbox.add(manager, published);
      }
      this.logger.log({ msg: 'order decided', tick, side, quantity, price, rejected: breach });
      return breach ? undefined : order;
    });
    recordPublished(published);
    if (toSend) await this.send(toSend);
  }

  /**
   * A stopped strategy's last orders: sent if still NEW (they may have reached the exchange),
   * then withdrawn; fills before the cancel still count.
   */
  async windDown(strategyId: string): Promise<void> {
    for (const order of await this.openOrders(strategyId)) {
      if (order.status === 'NEW') await this.send(order);
    }
    for (const order of await this.openOrders(strategyId)) {
      await this.exchange.cancel(order.id);
      await this.settle(order.id, await this.exchange.fills(order.id), true);
    }
  }

  /** Sends NEW orders (again), and applies the fills of sent ones. */
  private async settleOpenOrders(strategyId: string): Promise<void> {
    for (const order of await this.openOrders(strategyId)) {
      if (order.status === 'NEW') {
        await this.send(order);
        continue;
      }
      const fills = await this.exchange.fills(order.id);
      if (fills.length > 0) await this.settle(order.id, fills, false);
    }
  }

  private openOrders(strategyId: string): Promise<TradingOrder[]> {
    return this.dataSource.getRepository(TradingOrder).find({
      where: { strategyId, status: In(OPEN_ORDER_STATUSES) },
      order: { tick: 'ASC' },
    });
  }

  private async send(order: TradingOrder): Promise<void> {
    const { id: clientOrderId, symbol, side, quantity, referencePrice } = order;
    const ack = await this.exchange.submit({
      clientOrderId,
      symbol,
      side,
      quantity,
      referencePrice,
    });
    let published: EventEnvelope[] = [];
    await this.dataSource.transaction(async (manager) => {
      const current = await lockOrder(manager, order.id);
      // Another holder recorded the answer first.
      if (current.status !== 'NEW') return;
      current.status = orderTransition('NEW', ack.accepted ? 'accept' : 'reject');
      current.reason = ack.accepted ? null : ack.reason;
      await manager.update(
        TradingOrder,
        { id: order.id },
        { status: current.status, reason: current.reason },
      );
      published = [
        ack.accepted
          ? createEvent(
              TradingOrderSubmittedV1,
              {
                strategyId: order.strategyId,
                orderId: order.id,
                clientOrderId,
                symbol,
                side,
                quantity,
                referencePrice,
              },
              { correlationId: order.strategyId, tenantId: order.tenantId },
            )
          : rejectedEvent(current, 'exchange', ack.reason),
      ];
      await this.outbox.add(manager, published);
    });
    recordPublished(published);
    this.logger.log({ msg: 'order sent', orderId: order.id, accepted: ack.accepted });
  }

  /** Applies the fills not applied yet to the order and the position; `cancelled` closes it. */
  private async settle(orderId: string, fills: ExchangeFill[], cancelled: boolean): Promise<void> {
    const published: EventEnvelope[] = [];
    await this.dataSource.transaction(async (manager) => {
      const order = await lockOrder(manager, orderId);
      if (!OPEN_ORDER_STATUSES.includes(order.status)) return;
      const known = new Set((await manager.findBy(Fill, { orderId })).map((fill) => fill.fillId));
      const fresh = fills.filter((fill) => !known.has(fill.fillId));
      if (fresh.length === 0 && !cancelled) return;
      const strategy = await lockStrategy(manager, order.strategyId);
      if (!strategy) return;
      let position: Position = strategy;
      for (const fill of fresh) {
        await manager.insert(Fill, { ...fill, orderId });
        const filled = order.filledQuantity + fill.quantity;
        order.averageFillPrice =
          ((order.averageFillPrice ?? 0) * order.filledQuantity + fill.price * fill.quantity) /
          filled;
        order.filledQuantity = filled;
        order.status = orderTransition(
          order.status,
          filled === order.quantity ? 'final-fill' : 'fill',
        );
        position = applyFill(position, order.side, fill.quantity, fill.price);
        published.push(
          createEvent(
            TradingOrderFilledV1,
            {
              strategyId: order.strategyId,
              orderId,
              clientOrderId: orderId,
              fillId: fill.fillId,
              symbol: order.symbol,
              side: order.side,
              quantity: fill.quantity,
              price: fill.price,
              filledQuantity: filled,
              status: order.status === 'FILLED' ? 'FILLED' : 'PARTIALLY_FILLED',
            },
            { correlationId: order.strategyId, tenantId: order.tenantId },
          ),
        );
      }
      if (cancelled && order.status !== 'FILLED') {
        order.status = orderTransition(order.status, 'cancel');
        this.logger.log({ msg: 'order cancelled', orderId, filled: order.filledQuantity });
      }
      const { status, filledQuantity, averageFillPrice } = order;
      await manager.update(
        TradingOrder,
        { id: orderId },
        { status, filledQuantity, averageFillPrice },
      );
      const { quantity, averagePrice, realisedPnl } = position;
      await manager.update(Strategy, { id: strategy.id }, { quantity, averagePrice, realisedPnl });
      await this.outbox.add(manager, published);
    });
    recordPublished(published);
  }
}

function lockStrategy(manager: EntityManager, id: string): Promise<Strategy | null> {
  return manager.findOne(Strategy, { where: { id }, lock: { mode: 'pessimistic_write' } });
}

/** `settle` locks an order, then its strategy; nothing locks them the other way round. */
function lockOrder(manager: EntityManager, id: string): Promise<TradingOrder> {
  return manager.findOneOrFail(TradingOrder, {
    where: { id },
    lock: { mode: 'pessimistic_write' },
  });
}

async function ordersLastMinute(manager: EntityManager, strategyId: string): Promise<number> {
  return manager
    .getRepository(TradingOrder)
    .createQueryBuilder('o')
    .where(`o.strategyId = :strategyId AND o.status <> 'REJECTED'`, { strategyId })
    .andWhere(`o.createdAt > now() - interval '1 minute'`)
    .getCount();
}

function rejectedEvent(
  order: TradingOrder,
  source: RejectionSource,
  reason: string,
): EventEnvelope {
  const { strategyId, tenantId, id, symbol, side, quantity } = order;
  return createEvent(
    TradingOrderRejectedV1,
    { strategyId, orderId: id, clientOrderId: id, symbol, side, quantity, source, reason },
    { correlationId: strategyId, tenantId },
  );
}
