import { Body, Controller, Get, Param, Put, UsePipes } from '@nestjs/common';
import {
  CurrentPrincipal,
  IdempotencyKey,
  IdempotencyScope,
  Principal,
  Refuses,
  Requires,
  StrictValidationPipe,
} from '@lib/platform';
import { ProductNotFoundError, StockBelowReservedError } from './product.errors';
import { ProductsService, ProductView } from './products.service';
import { ProductSkuParam, PutProductRequest } from './put-product.request';

@Controller('inventory/products')
@UsePipes(StrictValidationPipe)
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Put(':sku')
  @Requires('products:write')
  @Refuses(StockBelowReservedError)
  put(
    @CurrentPrincipal() principal: Principal,
    @Param() { sku }: ProductSkuParam,
    @Body() request: PutProductRequest,
    @IdempotencyKey() key?: IdempotencyScope,
  ): Promise<ProductView> {
    return this.products.put(principal, sku, request, key);
  }

  @Get(':sku')
  @Requires('products:read')
  @Refuses(ProductNotFoundError)
  find(
    @CurrentPrincipal() principal: Principal,
    @Param() { sku }: ProductSkuParam,
  ): Promise<ProductView> {
    return this.products.find(principal.tenantId, sku);
  }
}
