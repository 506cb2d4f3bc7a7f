import { openAppDataSource } from '@lib/persistence';
import { appDataSourceOptions } from '@lib/platform';
import { randomUUID } from 'node:crypto';
import { freshSchema, query, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { paymentPersistence } from '../persistence';
import { PaymentTables1764100000000 } from './1764100000000-payment-tables';

const SCHEMA = 'payments_owners_migration_test';

describe('payment owners migration', () => {
  it('puts payments from before tenancy in the default tenant, with no known customer', async () => {
    await freshSchema(SCHEMA);
    const before = await openAppDataSource({
      url: TEST_DATABASE_URL,
      schema: SCHEMA,
      entities: [],
      migrations: [PaymentTables1764100000000],
    });
    const [old, tenanted] = [randomUUID(), randomUUID()];
    await before.query(
      `INSERT INTO "${SCHEMA}".payments (id, order_id, status, amount_minor, correlation_id, tenant_id)
       VALUES ($1, $1, 'PENDING', 100, 'c', NULL), ($2, $2, 'PENDING', 100, 'c', 't1')`,
      [old, tenanted],
    );
    await before.destroy();

    const after = await openAppDataSource(
      appDataSourceOptions(TEST_DATABASE_URL, { ...paymentPersistence, schema: SCHEMA }),
    );
    try {
      expect(
        await query(
          `SELECT order_id, tenant_id, customer_id FROM "${SCHEMA}".payments ORDER BY tenant_id`,
        ),
      ).toEqual([
        { order_id: old, tenant_id: 'default', customer_id: null },
        { order_id: tenanted, tenant_id: 't1', customer_id: null },
      ]);
      await expect(
        query(
          `INSERT INTO "${SCHEMA}".payments (id, order_id, status, amount_minor, correlation_id)
           VALUES ($1, $1, 'PENDING', 100, 'c')`,
          [randomUUID()],
        ),
      ).rejects.toThrow(/tenant_id/);
    } finally {
      await after.destroy();
    }
  });
});
