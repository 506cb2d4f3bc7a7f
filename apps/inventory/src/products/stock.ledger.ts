import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { createEvent, EventEnvelope, EventOrigin, InventoryLowStockV1 } from '@lib/contracts';
import { queryPrepared, WriteSet } from '@lib/persistence';
import { crossedBelowThreshold, moveStock, StockMove } from './product';
import { Product } from './product.entity';

export type LockedProduct = Omit<Product, 'createdAt' | 'updatedAt'>;

/** Which product: an SKU is unique within its tenant. */
export type ProductKey = Pick<Product, 'tenantId' | 'sku'>;

/** Units of one product that a move takes from one bucket to another. */
export interface StockLine extends ProductKey {
  quantity: number;
}

function keyOf({ tenantId, sku }: ProductKey): string {
  return JSON.stringify([tenantId, sku]);
}

/**
 * The one way stock levels change: products are locked, moved (which answers the low-stock alerts
 * a move caused, for the caller's outbox), and written back as part of the caller's write set.
 */
@Injectable()
export class StockLedger {
  private readonly logger = new Logger(StockLedger.name);
  private readonly table: string;

  constructor(dataSource: DataSource) {
    this.table = dataSource.getMetadata(Product).tablePath;
  }

  /**
   * Locks the products in (tenant, SKU) order. Every transaction that changes several products locks
   * them here, in the same order, so none can deadlock another. Unknown products are left out.
   */
  async lock(manager: EntityManager, keys: ProductKey[]): Promise<LockedProduct[]> {
    if (keys.length === 0) return [];
    return queryPrepared(
      manager,
      `SELECT tenant_id AS "tenantId", sku, name, price_minor::float8 AS "priceMinor", currency,
          available, reserved, committed, low_stock_threshold AS "lowStockThreshold",
          low_stock_alerted AS "lowStockAlerted"
        FROM ${this.table}
        WHERE (tenant_id, sku) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        ORDER BY tenant_id, sku FOR UPDATE`,
      [keys.map((key) => key.tenantId), keys.map((key) => key.sku)],
    );
  }

  /**
   * Applies `move` for every line to products locked by `lock`; returns an alert for each product
   * the lines took below its threshold. Nothing is written until `write`.
   */
  move(
    products: LockedProduct[],
    lines: StockLine[],
    move: StockMove,
    origin: EventOrigin,
  ): EventEnvelope[] {
    const byKey = new Map(products.map((product) => [keyOf(product), product]));
    const moved = lines.map((line) => {
      const product = byKey.get(keyOf(line));
      if (!product) throw new Error(`product ${line.sku} of ${line.tenantId} is not locked`);
      moveStock(product, move, line.quantity);
      return product;
    });
    return this.alerts(moved, origin);
  }

  /**
   * An alert for each product that has just fallen below its threshold (settles its flag), in the
   * product's tenant.
   */
  alerts(products: LockedProduct[], origin: EventOrigin): EventEnvelope[] {
    const alerts: EventEnvelope[] = [];
    for (const product of products) {
      const { tenantId, sku, available, lowStockThreshold: threshold } = product;
      if (crossedBelowThreshold(product)) {
        this.logger.log({ msg: 'stock low', tenantId, sku, available, threshold });
        alerts.push(
          createEvent(InventoryLowStockV1, { sku, available, threshold }, { ...origin, tenantId }),
        );
      }
    }
    return alerts;
  }

  /** Writes locked products as they are now, as part of `writes`. */
  write(products: LockedProduct[], writes: WriteSet): WriteSet {
    if (products.length === 0) return writes;
    return writes.add((p) => {
      const column = (value: (product: LockedProduct) => unknown, type: string) =>
        p.array(products, value, type);
      return `UPDATE ${this.table} AS product SET name = saved.name, price_minor = saved.price_minor,
          currency = saved.currency, available = saved.available, reserved = saved.reserved,
          committed = saved.committed, low_stock_threshold = saved.low_stock_threshold,
          low_stock_alerted = saved.low_stock_alerted, updated_at = now()
        FROM unnest(${column((s) => s.tenantId, 'text')}, ${column((s) => s.sku, 'text')},
          ${column((s) => s.name, 'text')},
          ${column((s) => s.priceMinor, 'bigint')}, ${column((s) => s.currency, 'text')},
          ${column((s) => s.available, 'int')}, ${column((s) => s.reserved, 'int')},
          ${column((s) => s.committed, 'int')}, ${column((s) => s.lowStockThreshold, 'int')},
          ${column((s) => s.lowStockAlerted, 'bool')})
          AS saved(tenant_id, sku, name, price_minor, currency, available, reserved, committed,
            low_stock_threshold, low_stock_alerted)
        WHERE product.tenant_id = saved.tenant_id AND product.sku = saved.sku`;
    });
  }
}
