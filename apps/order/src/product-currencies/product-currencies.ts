import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope, InventoryProductPricedV1Payload } from '@lib/contracts';
import { queryPrepared } from '@lib/persistence';
import { DEFAULT_TENANT } from '@lib/platform';
import { ProductCurrency } from './product-currency.entity';

/** A product priced in another currency than the one asked for. */
export interface PricedElsewhere {
  sku: string;
  currency: string;
}

/**
 * The order app's copy of the catalogue's currencies, fed by `inventory.product-priced`. It only
 * answers which products are known to be priced in another currency: a product it has not heard of
 * (announced before this copy existed, or its announcement still on its way) is left for inventory
 * to decide when it reserves, as before.
 */
@Injectable()
export class ProductCurrencies {
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    this.table = dataSource.getMetadata(ProductCurrency).tablePath;
  }

  /** Keeps the announced currency unless a newer announcement of the product is already in. */
  async record(
    manager: EntityManager,
    event: EventEnvelope<InventoryProductPricedV1Payload>,
  ): Promise<void> {
    const { sku, currency } = event.payload;
    await queryPrepared(
      manager,
      `INSERT INTO ${this.table} AS p (tenant_id, sku, currency, priced_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant_id, sku) DO UPDATE SET currency = EXCLUDED.currency,
          priced_at = EXCLUDED.priced_at
        WHERE p.priced_at <= EXCLUDED.priced_at`,
      [event.tenantId ?? DEFAULT_TENANT, sku, currency, event.occurredAt],
    );
  }

  /** The products among `skus` of the tenant that are priced in another currency, by SKU. */
  async pricedElsewhere(
    tenantId: string,
    skus: string[],
    currency: string,
  ): Promise<PricedElsewhere[]> {
    return queryPrepared<PricedElsewhere[]>(
      this.dataSource.manager,
      `SELECT sku, currency FROM ${this.table}
        WHERE tenant_id = $1 AND sku = ANY($2::text[]) AND currency <> $3 ORDER BY sku`,
      [tenantId, skus, currency],
    );
  }
}
