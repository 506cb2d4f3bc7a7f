import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventEnvelope } from '@lib/contracts';
import { Outbox } from '@lib/messaging';
import { WriteSet } from '@lib/persistence';
import { currentLogContext } from '@lib/observability';
import { recordPublished } from '../inventory.metrics';
import { Product } from './product.entity';
import { ProductNotFoundError, StockBelowReservedError } from './product.errors';
import { PutProductRequest } from './put-product.request';
import { LockedProduct, StockLedger } from './stock.ledger';

export interface ProductView {
  sku: string;
  name: string;
  priceMinor: number;
  currency: string;
  available: number;
  reserved: number;
  committed: number;
  lowStockThreshold: number;
}

@Injectable()
export class ProductsService {
  private readonly logger = new Logger(ProductsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly stock: StockLedger,
  ) {}

  /**
   * Creates or replaces a product. `stock` is what is on hand: the units reserved stay reserved and
   * the rest is available, so stock cannot go below what is reserved.
   */
  async put(sku: string, request: PutProductRequest): Promise<ProductView> {
    const { stock, ...catalogue } = request;
    let alerts: EventEnvelope[] = [];
    const product = await this.dataSource.transaction(async (manager) => {
      // Insert if missing, then lock: two PUTs creating one SKU serialise instead of one failing.
      await manager
        .createQueryBuilder()
        .insert()
        .into(Product)
        .values({
          sku,
          ...catalogue,
          available: 0,
          reserved: 0,
          committed: 0,
          lowStockAlerted: false,
        })
        .orIgnore()
        .execute();
      const [product] = await this.stock.lock(manager, [sku]);
      if (!product) throw new Error(`product ${sku} was not created`);
      if (stock < product.reserved) throw new StockBelowReservedError(sku, stock, product.reserved);
      Object.assign(product, catalogue, { available: stock - product.reserved });
      // An alert raised by a PUT belongs to the HTTP request's conversation.
      alerts = this.stock.alerts([product], { correlationId: currentLogContext()?.correlationId });
      await this.outbox.addTo(this.stock.write([product], new WriteSet()), alerts).run(manager);
      return product;
    });
    recordPublished(alerts);
    this.logger.log({
      msg: 'product stocked',
      sku,
      available: product.available,
      reserved: product.reserved,
    });
    return productView(product);
  }

  async find(sku: string): Promise<ProductView> {
    const product = await this.dataSource.getRepository(Product).findOneBy({ sku });
    if (!product) throw new ProductNotFoundError(sku);
    return productView(product);
  }
}

function productView(product: LockedProduct): ProductView {
  const { sku, name, priceMinor, currency, available, reserved, committed, lowStockThreshold } =
    product;
  return { sku, name, priceMinor, currency, available, reserved, committed, lowStockThreshold };
}
