import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { createEvent, EventEnvelope, EventOrigin, InventoryLowStockV1 } from '@lib/contracts';
import { queryPrepared, WriteSet } from '@lib/persistence';
import { crossedBelowThreshold, moveStock, StockMove } from './product';
import { Product } from './product.entity';

export type LockedProduct = Omit<Product, 'createdAt' | 'updatedAt'>;

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
   * Locks the products in SKU order. Every transaction that changes several products locks them
   * here, in the same order, so none can deadlock another. Unknown SKUs are left out.
   */
  async lock(manager: EntityManager, skus: string[]): Promise<LockedProduct[]> {
    if (skus.length === 0) return [];
    return queryPrepared(
      manager,
      `SELECT sku, name, price_minor::float8 AS "priceMinor", currency, available, reserved,
          committed, low_stock_threshold AS "lowStockThreshold", low_stock_alerted AS "lowStockAlerted"
        FROM ${this.table} WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE`,
      [skus],
    );
  }

  /**
   * Applies `move` for every line to products locked by `lock`; returns an alert for each product
   * the lines took below its threshold. Nothing is written until `write`.
   */
  move(
    products: LockedProduct[],
    lines: { sku: string; quantity: number }[],
    move: StockMove,
    origin: EventOrigin,
  ): EventEnvelope[] {
    const bySku = new Map(products.map((product) => [product.sku, product]));
    const moved = lines.map(({ sku, quantity }) => {
      const product = bySku.get(sku);
      if (!product) throw new Error(`product ${sku} is not locked`);
      moveStock(product, move, quantity);
      return product;
    });
    return this.alerts(moved, origin);
  }

  /** An alert for each product that has just fallen below its threshold (settles its flag). */
  alerts(products: LockedProduct[], origin: EventOrigin): EventEnvelope[] {
    const alerts: EventEnvelope[] = [];
    for (const product of products) {
      const { sku, available, lowStockThreshold: threshold } = product;
      if (crossedBelowThreshold(product)) {
        this.logger.log({ msg: 'stock low', sku, available, threshold });
        alerts.push(createEvent(InventoryLowStockV1, { sku, available, threshold }, origin));
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
        FROM unnest(${column((s) => s.sku, 'text')}, ${column((s) => s.name, 'text')},
          ${column((s) => s.priceMinor, 'bigint')}, ${column((s) => s.currency, 'text')},
          ${column((s) => s.available, 'int')}, ${column((s) => s.reserved, 'int')},
          ${column((s) => s.committed, 'int')}, ${column((s) => s.lowStockThreshold, 'int')},
          ${column((s) => s.lowStockAlerted, 'bool')})
          AS saved(sku, name, price_minor, currency, available, reserved, committed,
            low_stock_threshold, low_stock_alerted)
        WHERE product.sku = saved.sku`;
    });
  }
}
