import { IsInt, Min } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsSku } from './fields';

/** Available stock fell below the product's threshold (once per crossing). */
export class InventoryLowStockV1Payload {
  @IsSku() sku: string;
  @Min(0) @IsInt() available: number;
  @Min(0) @IsInt() threshold: number;
}

export const InventoryLowStockV1 = defineEvent(
  'inventory.low-stock',
  1,
  InventoryLowStockV1Payload,
);
