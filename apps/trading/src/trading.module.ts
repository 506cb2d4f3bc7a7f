import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { TradingConfig } from './config';
import { tradingPersistence } from './persistence';

@Module({})
export class TradingModule {
  static forRoot(config: TradingConfig): DynamicModule {
    return {
      module: TradingModule,
      imports: [PlatformModule.forRoot({ service: 'trading', config, ...tradingPersistence })],
    };
  }
}
