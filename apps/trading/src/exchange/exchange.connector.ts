import { OrderSide } from '@lib/contracts';

export interface ExchangeOrderRequest {
  /** The exchange keeps one order per client order id: a second submit changes nothing. */
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  quantity: number;
  /** The feed price the decision saw. */
  referencePrice: number;
}

export type ExchangeAck = { accepted: true } | { accepted: false; reason: string };

export interface ExchangeFill {
  /** Stable across calls: a fill is applied once however often it is read. */
  fillId: string;
  quantity: number;
  price: number;
}

/** An execution venue. The default is the paper exchange; a real one implements the same calls. */
export interface ExchangeConnector {
  /** Places the order, or answers the first answer again if this client order id was seen. */
  submit(order: ExchangeOrderRequest): Promise<ExchangeAck>;
  /** Every fill of the order so far, oldest first. */
  fills(clientOrderId: string): Promise<ExchangeFill[]>;
  /** Withdraws what is not filled yet; fills before it stand. */
  cancel(clientOrderId: string): Promise<void>;
}

export const EXCHANGE_CONNECTOR = Symbol('EXCHANGE_CONNECTOR');
