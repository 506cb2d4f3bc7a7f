import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsInt, IsUUID, Min, ValidateNested } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsQuantity, IsSku } from './fields';

export class MissingLineV1 {
  @IsSku() sku: string;
  @IsQuantity() requested: number;
  /** 0 for an SKU the catalogue does not know. */
  @Min(0) @IsInt() available: number;
}

/** Nothing was reserved: at least one line could not be. */
export class InventoryOutOfStockV1Payload {
  @IsUUID() orderId: string;
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => MissingLineV1)
  @IsArray()
  missing: MissingLineV1[];
}

export const InventoryOutOfStockV1 = defineEvent(
  'inventory.out-of-stock',
  1,
  InventoryOutOfStockV1Payload,
);
