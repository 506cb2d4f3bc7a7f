import { IsIn, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsOrderSide, IsPrice, IsSymbol, IsTradingQuantity, OrderSide } from './trading-fields';

export const FILLED_ORDER_STATUSES = ['PARTIALLY_FILLED', 'FILLED'] as const;

/** One fill of an order; `status` says whether the order is now complete. */
export class TradingOrderFilledV1Payload {
  @IsUUID() strategyId: string;
  @IsUUID() orderId: string;
  @MaxLength(64) @IsString() clientOrderId: string;
  /** The exchange's id of this fill: applying a fill twice is caught on it. */
  @MaxLength(100) @IsString() fillId: string;
  @IsSymbol() symbol: string;
  @IsOrderSide() side: OrderSide;
  @IsTradingQuantity() quantity: number;
  @IsPrice() price: number;
  /** Units filled so far, this fill included. */
  @IsTradingQuantity() filledQuantity: number;
  @IsIn(FILLED_ORDER_STATUSES) status: (typeof FILLED_ORDER_STATUSES)[number];
}

export const TradingOrderFilledV1 = defineEvent(
  'trading.order.filled',
  1,
  TradingOrderFilledV1Payload,
);
