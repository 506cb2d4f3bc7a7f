import { Body, Controller, Get, Param, Put, UsePipes } from '@nestjs/common';
import { StrictValidationPipe } from '@lib/platform';
import { ProductsService, ProductView } from './products.service';
import { ProductSkuParam, PutProductRequest } from './put-product.request';

@Controller('inventory/products')
@UsePipes(StrictValidationPipe)
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Put(':sku')
  put(@Param() { sku }: ProductSkuParam, @Body() request: PutProductRequest): Promise<ProductView> {
    return this.products.put(sku, request);
  }

  @Get(':sku')
  find(@Param() { sku }: ProductSkuParam): Promise<ProductView> {
    return this.products.find(sku);
  }
}
