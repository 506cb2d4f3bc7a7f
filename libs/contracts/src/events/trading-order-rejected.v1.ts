import { IsIn, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsReason } from './fields';
import { IsOrderSide, IsSymbol, IsTradingQuantity, OrderSide } from './trading-fields';

export const REJECTION_SOURCES = ['risk', 'exchange'] as const;
export type RejectionSource = (typeof REJECTION_SOURCES)[number];

/** An order was refused before it traded: by the strategy's risk limits or by the exchange. */
export class TradingOrderRejectedV1Payload {
  @IsUUID() strategyId: string;
  @IsUUID() orderId: string;
  @MaxLength(64) @IsString() clientOrderId: string;
  @IsSymbol() symbol: string;
  @IsOrderSide() side: OrderSide;
  @IsTradingQuantity() quantity: number;
  @IsIn(REJECTION_SOURCES) source: RejectionSource;
  /** e.g. `max-position: buy 5 would take the position to 13, beyond ±10`. */
  @IsReason() reason: string;
}

export const TradingOrderRejectedV1 = defineEvent(
  'trading.order.rejected',
  1,
  TradingOrderRejectedV1Payload,
);
