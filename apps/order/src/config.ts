import { BaseConfig } from '@lib/platform';

export class OrderConfig extends BaseConfig {
  override PORT = 3001;
}
