import {
  EventEnvelope,
  TradingOrderFilledV1,
  TradingOrderRejectedV1,
  TradingOrderRejectedV1Payload,
  TradingOrderSubmittedV1,
} from '@lib/contracts';
import { counter, gauge } from '@lib/observability';

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
    help: 'Realised plus unrealised PnL at the last price, per strategy ticked here',
    labelNames: ['strategy'],
  }),
};

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
