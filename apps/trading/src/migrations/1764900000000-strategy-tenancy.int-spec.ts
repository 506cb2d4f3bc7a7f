import { openAppDataSource } from '@lib/persistence';
import { appDataSourceOptions } from '@lib/platform';
import { randomUUID } from 'node:crypto';
import { freshSchema, query, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { tradingPersistence } from '../persistence';
import { TradingTables1764100000000 } from './1764100000000-trading-tables';

const SCHEMA = 'trading_tenancy_migration_test';

describe('strategy tenancy migration', () => {
  it('puts strategies from before tenancy and their orders in the default tenant, creator unknown', async () => {
    await freshSchema(SCHEMA);
    const before = await openAppDataSource({
      url: TEST_DATABASE_URL,
      schema: SCHEMA,
      entities: [],
      migrations: [TradingTables1764100000000],
    });
    const [strategyId, orderId] = [randomUUID(), randomUUID()];
    await before.query(
      `INSERT INTO "${SCHEMA}".strategies
         (id, name, symbol, kind, params, max_position, max_order_qty, max_orders_per_minute, state)
       VALUES ($1, 'old', 'BTC-USD', 'grid', '{}', 1, 1, 1, 'Live')`,
      [strategyId],
    );
    await before.query(
      `INSERT INTO "${SCHEMA}".orders (id, strategy_id, tick, symbol, side, quantity, reference_price, status)
       VALUES ($1, $2, 1, 'BTC-USD', 'buy', 1, 60, 'SUBMITTED')`,
      [orderId, strategyId],
    );
    await before.destroy();

    const after = await openAppDataSource(
      appDataSourceOptions(TEST_DATABASE_URL, { ...tradingPersistence, schema: SCHEMA }),
    );
    try {
      expect(await query(`SELECT tenant_id, created_by FROM "${SCHEMA}".strategies`)).toEqual([
        { tenant_id: 'default', created_by: null },
      ]);
      expect(await query(`SELECT tenant_id FROM "${SCHEMA}".orders`)).toEqual([
        { tenant_id: 'default' },
      ]);
      // New rows name their tenant: there is no default to fall back on.
      await expect(
        query(
          `INSERT INTO "${SCHEMA}".strategies
             (id, name, symbol, kind, params, max_position, max_order_qty, max_orders_per_minute, state)
           VALUES ($1, 'new', 'BTC-USD', 'grid', '{}', 1, 1, 1, 'Idle')`,
          [randomUUID()],
        ),
      ).rejects.toThrow(/tenant_id/);
    } finally {
      await after.destroy();
    }
  });
});
