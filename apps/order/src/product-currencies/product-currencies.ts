import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope, InventoryProductPricedV1Payload } from '@lib/contracts';
import { JsonRead, queryPrepared } from '@lib/persistence';
import { DEFAULT_TENANT } from '@lib/platform';
import { ProductCurrency } from './product-currency.entity';

/** A product priced in another currency than the one asked for. */
export interface PricedElsewhere {
  sku: string;
  currency: string;
}

/** An order's currency and the products it names. */
export interface OrderCurrency {
  tenantId: string;
  currency: string;
  skus: string[];
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

  /**
   * An SQL condition (`SkipCondition`): some of the placed `order`'s `lines` name a product known to
   * be priced in another currency than the order's.
   */
  pricedElsewhereIn(order: string, lines: string): string {
    return `EXISTS (SELECT 1 FROM ${lines} l JOIN ${this.table} p ON p.sku = l.sku
      WHERE l.order_id = ${order}.order_id AND p.tenant_id = ${order}.tenant_id
        AND p.currency <> ${order}.currency)`;
  }

  /**
   * For each order, its products known to be priced in another currency than the order's, by SKU:
   * one read for all the orders placed together, which can share its statement (`readTogether`).
   */
  pricedElsewhere(orders: OrderCurrency[]): JsonRead<PricedElsewhere[][]> {
    const pairs = orders.flatMap(({ tenantId, skus }) => skus.map((sku) => ({ tenantId, sku })));
    return {
      select: (params) =>
        `SELECT p.tenant_id AS "tenantId", p.sku, p.currency FROM ${this.table} p
          JOIN unnest(${params.array(pairs, (pair) => pair.tenantId, 'text')},
            ${params.array(pairs, (pair) => pair.sku, 'text')}) AS o(tenant_id, sku)
          USING (tenant_id, sku)`,
      fromJson: (rows) => {
        const currencyOf = new Map(
          (rows as (PricedElsewhere & { tenantId: string })[]).map((row) => [
            `${row.tenantId}/${row.sku}`,
            row.currency,
          ]),
        );
        return orders.map(({ tenantId, currency, skus }) =>
          [...skus].sort().flatMap((sku) => {
            const priced = currencyOf.get(`${tenantId}/${sku}`);
            return priced !== undefined && priced !== currency ? [{ sku, currency: priced }] : [];
          }),
        );
      },
    };
  }
}
