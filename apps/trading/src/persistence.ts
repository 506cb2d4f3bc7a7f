import { APP_SCHEMAS, AppPersistence } from '@lib/platform';
import { PaperExchangeOrder } from './exchange/paper-exchange-order.entity';
import { Fill } from './execution/fill.entity';
import { TradingOrder } from './execution/trading-order.entity';
import { TradingTables1764100000000 } from './migrations/1764100000000-trading-tables';
import { StrategyTenancy1764900000000 } from './migrations/1764900000000-strategy-tenancy';
import { Strategy } from './strategies/strategy.entity';

/** The trading app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const tradingPersistence: AppPersistence = {
  schema: APP_SCHEMAS.trading,
  role: 'trading_app',
  entities: [Strategy, TradingOrder, Fill, PaperExchangeOrder],
  migrations: [TradingTables1764100000000, StrategyTenancy1764900000000],
};
