import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits, IsSku } from './fields';

/**
 * A product of the tenant (the envelope's) got its price: published when it is created and when its
 * price or currency changes. The order app keeps each product's currency from it, to refuse an order
 * in a currency the catalogue does not price its products in.
 */
export class InventoryProductPricedV1Payload {
  @IsSku() sku: string;
  @IsMinorUnits() priceMinor: number;
  @IsCurrency() currency: string;
}

export const InventoryProductPricedV1 = defineEvent(
  'inventory.product-priced',
  1,
  InventoryProductPricedV1Payload,
);
