import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { createEvent, EventEnvelope, InventoryProductPricedV1 } from '@lib/contracts';
import { Outbox } from '@lib/messaging';
import { WriteSet } from '@lib/persistence';
import { currentLogContext } from '@lib/observability';
import {
  auditEntry,
  AuditLog,
  IdempotencyScope,
  IdempotentRequests,
  Principal,
} from '@lib/platform';
import { recordPublished } from '../inventory.metrics';
import { Product } from './product.entity';
import { ProductNotFoundError, StockBelowReservedError } from './product.errors';
import { PutProductRequest } from './put-product.request';
import { LockedProduct, StockLedger } from './stock.ledger';

/** A product of the caller's tenant and its stock. */
export interface ProductView {
  /** @example DEMO-TEE */
  sku: string;
  /** @example Demo T-shirt */
  name: string;
  /**
   * Minor units (cents).
   * @integer
   * @example 2500
   */
  priceMinor: number;
  /** @example EUR */
  currency: string;
  /**
   * Units that can be reserved.
   * @integer
   */
  available: number;
  /**
   * Units held for orders whose payment is pending.
   * @integer
   */
  reserved: number;
  /**
   * Units sold.
   * @integer
   */
  committed: number;
  /** @integer */
  lowStockThreshold: number;
}

/** A product in its audit record, before and after a PUT. */
interface AuditedProduct {
  name: string;
  priceMinor: number;
  currency: string;
  /** On hand: what a PUT sets. */
  stock: number;
  available: number;
  lowStockThreshold: number;
}

/** The products of the principal's tenant: another tenant's product of the same SKU is not there. */
@Injectable()
export class ProductsService {
  private readonly logger = new Logger(ProductsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly stock: StockLedger,
    private readonly audit: AuditLog,
    private readonly idempotent: IdempotentRequests,
  ) {}

  /**
   * Creates or replaces a product of the principal's tenant, once per Idempotency-Key. `stock` is
   * what is on hand: the units reserved stay reserved and the rest is available, so stock cannot go
   * below what is reserved.
   */
  async put(
    principal: Principal,
    sku: string,
    request: PutProductRequest,
    key?: IdempotencyScope,
  ): Promise<ProductView> {
    // Set only when this request did the work: a retry answered from the key published nothing.
    let stocked: { product: LockedProduct; published: EventEnvelope[] } | undefined;
    const view = await this.idempotent.run(key, { sku, ...request }, async (manager) => {
      stocked = await this.stockProduct(manager, principal, sku, request);
      return productView(stocked.product);
    });
    if (stocked) {
      const { product, published } = stocked;
      recordPublished(published);
      this.logger.log({
        msg: 'product stocked',
        tenantId: product.tenantId,
        sku,
        available: product.available,
        reserved: product.reserved,
      });
    }
    return view;
  }

  async find(tenantId: string, sku: string): Promise<ProductView> {
    const product = await this.dataSource.getRepository(Product).findOneBy({ tenantId, sku });
    if (!product) throw new ProductNotFoundError(sku);
    return productView(product);
  }

  /**
   * The product written with its audit record and its events, in the caller's transaction: its
   * alerts, and `inventory.product-priced` when it is new or its price or currency changed.
   */
  private async stockProduct(
    manager: EntityManager,
    principal: Principal,
    sku: string,
    request: PutProductRequest,
  ): Promise<{ product: LockedProduct; published: EventEnvelope[] }> {
    const { tenantId } = principal;
    const { stock, ...catalogue } = request;
    // Insert if missing, then lock: two PUTs creating one SKU serialise instead of one failing.
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(Product)
      .values({
        tenantId,
        sku,
        ...catalogue,
        available: 0,
        reserved: 0,
        committed: 0,
        lowStockAlerted: false,
      })
      .orIgnore()
      .returning('sku')
      .execute();
    const created = (inserted.raw as unknown[]).length > 0;
    const [product] = await this.stock.lock(manager, [{ tenantId, sku }]);
    if (!product) throw new Error(`product ${sku} of ${tenantId} was not created`);
    if (stock < product.reserved) throw new StockBelowReservedError(sku, stock, product.reserved);
    const before = created ? null : audited(product);
    Object.assign(product, catalogue, { available: stock - product.reserved });
    // The events of a PUT belong to the HTTP request's conversation.
    const origin = { correlationId: currentLogContext()?.correlationId, tenantId };
    const alerts = this.stock.alerts([product], origin);
    const priced =
      !before || before.priceMinor !== product.priceMinor || before.currency !== product.currency
        ? [
            createEvent(
              InventoryProductPricedV1,
              { sku, priceMinor: product.priceMinor, currency: product.currency },
              origin,
            ),
          ]
        : [];
    const record = auditEntry(
      principal,
      created ? 'product.create' : 'product.update',
      { type: 'product', id: sku },
      { details: { before, after: audited(product) } },
    );
    const writes = this.audit.addTo(this.stock.write([product], new WriteSet()), [record]);
    const published = [...alerts, ...priced];
    await this.outbox.addTo(writes, published).run(manager);
    return { product, published };
  }
}

function productView(product: LockedProduct): ProductView {
  const { sku, name, priceMinor, currency, available, reserved, committed, lowStockThreshold } =
    product;
  return { sku, name, priceMinor, currency, available, reserved, committed, lowStockThreshold };
}

function audited(product: LockedProduct): AuditedProduct {
  const { name, priceMinor, currency, available, reserved, lowStockThreshold } = product;
  return { name, priceMinor, currency, stock: available + reserved, available, lowStockThreshold };
}
