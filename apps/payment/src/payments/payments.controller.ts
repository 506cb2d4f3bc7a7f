import { Controller, Get, Param } from '@nestjs/common';
import { UUID_PARAM } from '@lib/platform';
import { PaymentsService, PaymentView } from './payments.service';

@Controller('payments')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  /** Status of an order's payment, with the client secret the storefront confirms it with. */
  @Get(':orderId')
  find(@Param('orderId', UUID_PARAM) orderId: string): Promise<PaymentView> {
    return this.payments.find(orderId);
  }
}
