import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { PaymentConfig } from './config';
import { paymentPersistence } from './persistence';

@Module({})
export class PaymentModule {
  static forRoot(config: PaymentConfig): DynamicModule {
    return {
      module: PaymentModule,
      imports: [PlatformModule.forRoot({ service: 'payment', config, ...paymentPersistence })],
    };
  }
}
