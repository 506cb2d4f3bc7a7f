import { BaseConfig } from '@lib/platform';

export class PaymentConfig extends BaseConfig {
  override PORT = 3002;
}
