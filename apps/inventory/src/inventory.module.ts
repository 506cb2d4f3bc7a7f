import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { InventoryConfig } from './config';
import { inventoryPersistence } from './persistence';

@Module({})
export class InventoryModule {
  static forRoot(config: InventoryConfig): DynamicModule {
    return {
      module: InventoryModule,
      imports: [PlatformModule.forRoot({ service: 'inventory', config, ...inventoryPersistence })],
    };
  }
}
