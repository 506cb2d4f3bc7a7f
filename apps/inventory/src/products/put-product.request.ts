import { IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { CURRENCY_PATTERN, SKU_PATTERN } from '@lib/contracts';

/** Stock columns are Postgres integers. */
const MAX_UNITS = 2_147_483_647;

/** The SKU in `/inventory/products/:sku`. */
export class ProductSkuParam {
  @Matches(SKU_PATTERN, { message: 'sku must be 1-64 characters of A-Z 0-9 . _ -' })
  @IsString()
  sku: string;
}

/** `PUT /inventory/products/:sku`: the whole product, created or replaced. */
export class PutProductRequest {
  @Length(1, 200)
  @IsString()
  name: string;

  /** Integer minor units (cents). */
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  @IsInt()
  priceMinor: number;

  @Matches(CURRENCY_PATTERN, { message: 'currency must be an ISO 4217 code like EUR' })
  @IsString()
  currency: string;

  /** Units on hand and not yet sold: available + reserved. */
  @Min(0)
  @Max(MAX_UNITS)
  @IsInt()
  stock: number;

  @Min(0)
  @Max(MAX_UNITS)
  @IsInt()
  lowStockThreshold: number;
}
