import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { OrderConfig } from './config';
import { orderPersistence } from './persistence';

@Module({})
export class OrderModule {
  static forRoot(config: OrderConfig): DynamicModule {
    return {
      module: OrderModule,
      imports: [PlatformModule.forRoot({ service: 'order', config, ...orderPersistence })],
    };
  }
}
