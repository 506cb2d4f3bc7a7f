import { BaseConfig } from '@lib/platform';

export class InventoryConfig extends BaseConfig {
  override PORT = 3003;
}
