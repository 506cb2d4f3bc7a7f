import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsISO8601, IsUUID, ValidateNested } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits, IsQuantity, IsSku } from './fields';

export class ReservedLineV1 {
  @IsSku() sku: string;
  @IsQuantity() quantity: number;
  /** Catalogue price at reservation time. */
  @IsMinorUnits() unitPriceMinor: number;
}

/** Every line of the order is held until `expiresAt`. */
export class InventoryReservedV1Payload {
  @IsUUID() orderId: string;
  @IsUUID() reservationId: string;
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ReservedLineV1)
  @IsArray()
  lines: ReservedLineV1[];
  @IsMinorUnits() totalMinor: number;
  @IsCurrency() currency: string;
  @IsISO8601() expiresAt: string;
}

export const InventoryReservedV1 = defineEvent('inventory.reserved', 1, InventoryReservedV1Payload);
