import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The currency each product of a tenant is priced in, as inventory last announced it
 * (`inventory.product-priced`): what `POST /orders` checks an order's currency against.
 */
@Entity({ name: 'product_currencies' })
export class ProductCurrency {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId: string;
  @PrimaryColumn({ type: 'text' }) sku: string;
  @Column({ type: 'text' }) currency: string;
  /** The `occurredAt` of the announcement it came from: an older one arriving late changes nothing. */
  @Column({ name: 'priced_at', type: 'timestamptz' }) pricedAt: Date;
}
