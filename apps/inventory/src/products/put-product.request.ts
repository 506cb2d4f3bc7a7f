import { IsInt, Max, Min, MinLength } from 'class-validator';
import { IsCurrencyCode, IsMinorUnits, IsSku, IsText } from '@lib/contracts';

/** Stock columns are Postgres integers. */
const MAX_UNITS = 2_147_483_647;

/** The SKU in `/inventory/products/:sku`. */
export class ProductSkuParam {
  @IsSku()
  sku: string;
}

/** `PUT /inventory/products/:sku`: the whole product, created or replaced. */
export class PutProductRequest {
  @MinLength(1)
  @IsText(200)
  name: string;

  /** Integer minor units (cents). */
  @IsMinorUnits()
  priceMinor: number;

  @IsCurrencyCode()
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
