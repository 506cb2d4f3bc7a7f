import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { CURRENCY_PATTERN, SKU_PATTERN } from '@lib/contracts';

export const MAX_LINE_QUANTITY = 1000;

export class PlaceOrderLine {
  @Matches(SKU_PATTERN, { message: 'sku must be 1-64 characters of A-Z 0-9 . _ -' })
  @IsString()
  sku: string;

  @Min(1)
  @Max(MAX_LINE_QUANTITY)
  @IsInt()
  quantity: number;
}

/** `POST /orders`. No prices: inventory prices the lines from its catalogue. */
export class PlaceOrderRequest {
  @Length(1, 100)
  @IsString()
  customerId: string;

  @ArrayMaxSize(100)
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => PlaceOrderLine)
  @IsArray()
  items: PlaceOrderLine[];

  @IsOptional()
  @Matches(CURRENCY_PATTERN, { message: 'currency must be an ISO 4217 code like EUR' })
  currency?: string;

  @IsOptional()
  @Length(1, 100)
  @IsString()
  tenantId?: string;
}
