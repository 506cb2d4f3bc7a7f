import { Inject, Injectable } from '@nestjs/common';
import { inventoryApi, operatorApi, paymentApi } from '@lib/operator-api';
import { ConsoleConfig } from '../config';
import { CONSOLE_CONFIG } from '../console-config.token';

/**
 * The apps' APIs, called with the signed-in operator's own token: each app checks its roles and
 * tenant as for any caller, and audits what the operator does under its `sub`.
 */
@Injectable()
export class PlatformApis {
  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  sagas(token: string) {
    return operatorApi({ baseUrl: this.config.ORDER_API_URL, token });
  }

  payments(token: string) {
    return paymentApi({ baseUrl: this.config.PAYMENT_API_URL, token });
  }

  inventory(token: string) {
    return inventoryApi({ baseUrl: this.config.INVENTORY_API_URL, token });
  }
}
