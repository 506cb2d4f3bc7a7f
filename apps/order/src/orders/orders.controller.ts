import { Body, Controller, Get, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import {
  CurrentPrincipal,
  IdempotencyKey,
  IdempotencyScope,
  IdempotentRequests,
  Principal,
  Refuses,
  Requires,
  StrictValidationPipe,
  UUID_PARAM,
} from '@lib/platform';
import {
  CurrencyNotSupportedError,
  OrderAlreadyFinishedError,
  OrderNotFoundError,
} from './order.errors';
import { CancelledOrder, OrdersService, OrderView, PlacedOrder } from './orders.service';
import { PlaceOrderRequest } from './place-order.request';

@Controller('orders')
@UsePipes(StrictValidationPipe)
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly idempotent: IdempotentRequests,
  ) {}

  /**
   * 202: the saga runs on; `GET /orders/:id` follows it. The Idempotency-Key is kept on the order
   * itself (unique per tenant and customer), so that orders placed together still start in one
   * statement.
   */
  @Post()
  @HttpCode(202)
  @Requires('orders:place')
  @Refuses(CurrencyNotSupportedError)
  place(
    @CurrentPrincipal() principal: Principal,
    @Body() request: PlaceOrderRequest,
    @IdempotencyKey() idempotency?: IdempotencyScope,
  ): Promise<PlacedOrder> {
    return this.orders.place(principal, request, idempotency?.key);
  }

  @Get(':id')
  @Requires('orders:read')
  @Refuses(OrderNotFoundError)
  find(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID_PARAM) orderId: string,
  ): Promise<OrderView> {
    return this.orders.find(orderId, principal);
  }

  /** A retry under the same Idempotency-Key answers what the first cancel answered. */
  @Post(':id/cancel')
  @HttpCode(202)
  @Requires('orders:cancel')
  @Refuses(OrderNotFoundError, OrderAlreadyFinishedError)
  cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID_PARAM) orderId: string,
    @IdempotencyKey() idempotency?: IdempotencyScope,
  ): Promise<CancelledOrder> {
    return this.idempotent.run(idempotency, { orderId }, (manager) =>
      this.orders.cancel(manager, orderId, principal),
    );
  }
}
