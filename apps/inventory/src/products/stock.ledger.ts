import { Injectable, Logger } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { createEvent, EventEnvelope, EventOrigin, InventoryLowStockV1 } from '@lib/contracts';
import { crossedBelowThreshold, moveStock, StockMove } from './product';
import { Product } from './product.entity';

/**
 * The one way stock levels change: products are locked, changed, and written back together with
 * the low-stock alerts the change caused, which the caller adds to the outbox of its transaction.
 */
@Injectable()
export class StockLedger {
  private readonly logger = new Logger(StockLedger.name);

  /**
   * Locks the products in SKU order. Every transaction that changes several products locks them
   * here, in the same order, so none can deadlock another. Unknown SKUs are left out.
   */
  lock(manager: EntityManager, skus: string[]): Promise<Product[]> {
    return manager.find(Product, {
      where: { sku: In(skus) },
      order: { sku: 'ASC' },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /** Applies `move` for every line to products locked by `lock`, and writes them. */
  async move(
    manager: EntityManager,
    products: Product[],
    lines: { sku: string; quantity: number }[],
    move: StockMove,
    origin: EventOrigin,
  ): Promise<EventEnvelope[]> {
    const bySku = new Map(products.map((product) => [product.sku, product]));
    for (const { sku, quantity } of lines) {
      const product = bySku.get(sku);
      if (!product) throw new Error(`product ${sku} is not locked`);
      moveStock(product, move, quantity);
    }
    return this.save(manager, products, origin);
  }

  /** Writes locked products; returns an alert for each that has just fallen below its threshold. */
  async save(
    manager: EntityManager,
    products: Product[],
    origin: EventOrigin,
  ): Promise<EventEnvelope[]> {
    const alerts: EventEnvelope[] = [];
    for (const product of products) {
      const { sku, available, lowStockThreshold: threshold } = product;
      if (crossedBelowThreshold(product)) {
        this.logger.log({ msg: 'stock low', sku, available, threshold });
        alerts.push(createEvent(InventoryLowStockV1, { sku, available, threshold }, origin));
      }
      await manager.update(
        Product,
        { sku },
        {
          name: product.name,
          priceMinor: product.priceMinor,
          currency: product.currency,
          available,
          reserved: product.reserved,
          committed: product.committed,
          lowStockThreshold: threshold,
          lowStockAlerted: product.lowStockAlerted,
        },
      );
    }
    return alerts;
  }
}
