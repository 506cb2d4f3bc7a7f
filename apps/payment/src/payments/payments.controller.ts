import { Controller, Get, Param } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { CurrentPrincipal, Principal, Requires, UUID_PARAM } from '@lib/platform';
import { PaymentsService, PaymentView } from './payments.service';

@Controller('payments')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  /**
   * Status of an order's payment, with the client secret the storefront confirms it with: for the
   * customer who placed the order and the tenant's operators. Never cached (see PaymentModule).
   */
  @Get(':orderId')
  @Requires('payments:read')
  find(
    @CurrentPrincipal() principal: Principal,
    @Param('orderId', UUID_PARAM) orderId: string,
  ): Promise<PaymentView> {
    return this.payments.find(orderId, principal.scope('payments:read-any'));
  }
}

/**
 * Every answer of `GET /payments/:orderId` may hold a client secret or reveal a payment: no browser,
 * proxy or CDN keeps any of them. Middleware, because it runs before the guard, so 401 and 403
 * answers carry it as well as 200, 400 and 404.
 */
export function noStore(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
}
