import { BaseConfig } from '@lib/platform';

export class TradingConfig extends BaseConfig {
  override PORT = 3004;
}
