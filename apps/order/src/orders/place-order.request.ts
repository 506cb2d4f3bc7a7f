import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  Max,
  ValidateNested,
} from 'class-validator';
import { IsCurrencyCode, IsIdentifier, IsQuantity, IsSku } from '@lib/contracts';

export const MAX_LINE_QUANTITY = 1000;

export class PlaceOrderLine {
  /** @example DEMO-TEE */
  @IsSku()
  sku: string;

  @Max(MAX_LINE_QUANTITY)
  @IsQuantity()
  quantity: number;
}

/**
 * `POST /orders`. No prices: inventory prices the lines from its catalogue. No tenant: the order is
 * in the token's.
 */
export class PlaceOrderRequest {
  /** The token's `sub` if given (anything else is 403): a customer orders for itself only. */
  @IsOptional()
  @IsIdentifier(100)
  customerId?: string;

  /**
   * Repeated SKUs are merged into one line.
   * @example [{ "sku": "DEMO-TEE", "quantity": 1 }]
   */
  @ArrayMaxSize(100)
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => PlaceOrderLine)
  @IsArray()
  items: PlaceOrderLine[];

  @IsOptional()
  @IsCurrencyCode()
  currency?: string;
}
