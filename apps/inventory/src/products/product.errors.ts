import { DomainError } from '@lib/platform';

export class ProductNotFoundError extends DomainError {
  readonly code = 'INVENTORY.PRODUCT_NOT_FOUND';
  readonly status = 404;
  constructor(sku: string) {
    super(`product ${sku} does not exist`);
  }
}

export class StockBelowReservedError extends DomainError {
  readonly code = 'INVENTORY.STOCK_BELOW_RESERVED';
  readonly status = 409;
  constructor(sku: string, stock: number, reserved: number) {
    super(`product ${sku} has ${reserved} units reserved: stock cannot be set to ${stock}`);
  }
}
