import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsString,
  IsUUID,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsQuantity, IsSku } from './fields';

export class OrderLineV1 {
  @IsSku() sku: string;
  @IsQuantity() quantity: number;
}

/** A client placed an order; inventory reserves its lines (prices come from the catalogue). */
export class OrderCreatedV1Payload {
  @IsUUID() orderId: string;
  @MaxLength(100) @IsString() customerId: string;
  @IsCurrency() currency: string;
  @ArrayMaxSize(100)
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => OrderLineV1)
  @IsArray()
  items: OrderLineV1[];
}

export const OrderCreatedV1 = defineEvent('order.created', 1, OrderCreatedV1Payload);
