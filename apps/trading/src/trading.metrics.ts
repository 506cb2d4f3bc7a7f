import {
  EventEnvelope,
  STRATEGY_KINDS,
  StrategyKind,
  TradingOrderFilledV1,
  TradingOrderRejectedV1,
  TradingOrderRejectedV1Payload,
  TradingOrderSubmittedV1,
} from '@lib/contracts';
import { counter, gauge } from '@lib/observability';
import { Position, unrealisedPnl } from './execution/position';

/**
 * Every label here takes a handful of known values (never a strategy, order or tenant id): a
 * series per entity would grow with every strategy anyone creates. Per-strategy figures are in
 * `GET /v1/trading/strategies/:id`.
 */
export const tradingMetrics = {
  strategiesLive: gauge({
    name: 'strategies_live',
    help: 'Live strategies this instance holds the lease of and ticks',
  }),
  ordersSent: counter({
    name: 'trading_orders_sent_total',
    help: 'Orders sent to the exchange (accepted or refused by it)',
  }),
  ordersRejected: counter({
    name: 'trading_orders_rejected_total',
    help: 'Orders rejected, by source: risk (never sent) or exchange',
    labelNames: ['source'],
  }),
  fills: counter({ name: 'trading_fills_total', help: 'Fills applied to strategy positions' }),
  pnlEstimated: gauge({
    name: 'pnl_estimated',
    help: 'Realised plus unrealised PnL at the last price of the live strategies this instance ticks, by strategy kind',
    labelNames: ['kind'],
  }),
};

/** A live strategy as the metrics see it: its kind and its position at the last price. */
export interface LiveStrategy extends Position {
  kind: StrategyKind;
  lastPrice: number | null;
}

/** The live strategies this instance holds after a pass: how many, and their PnL by kind. */
export function recordLive(strategies: readonly LiveStrategy[]): void {
  tradingMetrics.strategiesLive.set(strategies.length);
  for (const kind of STRATEGY_KINDS) {
    const pnl = strategies
      .filter((s) => s.kind === kind)
      .reduce((sum, s) => sum + s.realisedPnl + unrealisedPnl(s, s.lastPrice), 0);
    tradingMetrics.pnlEstimated.set({ kind }, pnl);
  }
}

/** Counts the events of a committed transaction: one that rolled back published nothing. */
export function recordPublished(events: EventEnvelope[]): void {
  for (const event of events) {
    if (event.eventName === TradingOrderSubmittedV1.eventName) tradingMetrics.ordersSent.inc();
    if (event.eventName === TradingOrderFilledV1.eventName) tradingMetrics.fills.inc();
    if (event.eventName === TradingOrderRejectedV1.eventName) {
      const { source } = event.payload as TradingOrderRejectedV1Payload;
      tradingMetrics.ordersRejected.inc({ source });
      if (source === 'exchange') tradingMetrics.ordersSent.inc();
    }
  }
}
