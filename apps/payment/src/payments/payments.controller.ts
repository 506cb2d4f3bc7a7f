import { ArgumentsHost, Catch, Controller, Get, Header, Param, UseFilters } from '@nestjs/common';
import {
  CurrentPrincipal,
  DomainError,
  DomainErrorFilter,
  HttpResponse,
  Principal,
  Refuses,
  Requires,
  UUID_PARAM,
} from '@lib/platform';
import { PaymentNotFoundError } from './payment.errors';
import { PaymentsService, PaymentView } from './payments.service';

/**
 * Every answer of `GET /payments/:orderId` may hold a client secret or reveal a payment, so no
 * browser, proxy or CDN may keep any of them: `@Header` marks the 200, this filter the errors,
 * the guard's 401 and 403 included (route filters also catch what guards throw).
 */
@Catch(DomainError)
export class NoStoreErrorFilter extends DomainErrorFilter {
  override catch(error: DomainError, host: ArgumentsHost) {
    if (host.getType() === 'http') {
      host.switchToHttp().getResponse<HttpResponse>().header('Cache-Control', 'no-store');
    }
    return super.catch(error, host);
  }
}

@Controller('payments')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  /**
   * Status of an order's payment, with the client secret the storefront confirms it with: for the
   * customer who placed the order and the tenant's operators; 404 to anyone else.
   */
  @Get(':orderId')
  @Requires('payments:read')
  @Refuses(PaymentNotFoundError)
  @Header('Cache-Control', 'no-store')
  @UseFilters(NoStoreErrorFilter)
  find(
    @CurrentPrincipal() principal: Principal,
    @Param('orderId', UUID_PARAM) orderId: string,
  ): Promise<PaymentView> {
    return this.payments.find(orderId, principal.scope('payments:read-any'));
  }
}
