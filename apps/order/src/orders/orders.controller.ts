import { Body, Controller, Get, Headers, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import { InvalidRequestError, StrictValidationPipe, UUID_PARAM } from '@lib/platform';
import { OrdersService, PlacedOrder } from './orders.service';
import { PlaceOrderRequest } from './place-order.request';

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

@Controller('orders')
@UsePipes(StrictValidationPipe)
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /** 202: the saga runs on; `GET /orders/:id` follows it. */
  @Post()
  @HttpCode(202)
  place(
    @Body() request: PlaceOrderRequest,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<PlacedOrder> {
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    ) {
      throw new InvalidRequestError(
        `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      );
    }
    return this.orders.place(request, idempotencyKey);
  }

  @Get(':id')
  find(@Param('id', UUID_PARAM) orderId: string) {
    return this.orders.find(orderId);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Param('id', UUID_PARAM) orderId: string) {
    return this.orders.cancel(orderId);
  }
}
