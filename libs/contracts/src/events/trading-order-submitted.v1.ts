import { IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsOrderSide, IsPrice, IsSymbol, IsTradingQuantity, OrderSide } from './trading-fields';

/** The exchange accepted an order. `clientOrderId` is the key it de-duplicates submissions on. */
export class TradingOrderSubmittedV1Payload {
  @IsUUID() strategyId: string;
  @IsUUID() orderId: string;
  @MaxLength(64) @IsString() clientOrderId: string;
  @IsSymbol() symbol: string;
  @IsOrderSide() side: OrderSide;
  @IsTradingQuantity() quantity: number;
  /** The feed price the decision saw. */
  @IsPrice() referencePrice: number;
}

export const TradingOrderSubmittedV1 = defineEvent(
  'trading.order.submitted',
  1,
  TradingOrderSubmittedV1Payload,
);
