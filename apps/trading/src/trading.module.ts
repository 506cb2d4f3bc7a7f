import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { TradingConfig } from './config';
import { EXCHANGE_CONNECTOR } from './exchange/exchange.connector';
import { PaperExchange } from './exchange/paper.exchange';
import { StrategyExecution } from './execution/strategy-execution';
import { StrategyLeases } from './execution/strategy-leases';
import { StrategyRunner } from './execution/strategy.runner';
import { MARKET_DATA_FEED } from './market-data/market-data.feed';
import { SimulatedFeed } from './market-data/simulated.feed';
import { tradingPersistence } from './persistence';
import { StrategiesController } from './strategies/strategies.controller';
import { StrategiesService } from './strategies/strategies.service';
import { StrategyCommandsConsumer } from './strategies/strategy-commands.consumer';

@Module({})
export class TradingModule {
  /** `schema` lets test suites run on a schema of their own. */
  static forRoot(config: TradingConfig, schema = tradingPersistence.schema): DynamicModule {
    return {
      module: TradingModule,
      imports: [
        PlatformModule.forRoot({ service: 'trading', config, ...tradingPersistence, schema }),
      ],
      controllers: [StrategiesController, StrategyCommandsConsumer],
      providers: [
        { provide: TradingConfig, useValue: config },
        // The defaults; a real feed or exchange is another provider behind the same token.
        { provide: MARKET_DATA_FEED, useValue: new SimulatedFeed(config.MARKET_DATA_SEED) },
        { provide: EXCHANGE_CONNECTOR, useClass: PaperExchange },
        StrategiesService,
        StrategyExecution,
        StrategyLeases,
        StrategyRunner,
      ],
    };
  }
}
