import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isUniqueViolation, openAppDataSource } from '@lib/persistence';
import { AppPersistence, appDataSourceOptions } from '@lib/platform';
import { freshSchema, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { orderPersistence } from '../persistence';
import { OrderTables1763900000000 } from './1763900000000-order-tables';

const SCHEMA = 'order_tenancy_migration_test';

/** The orders and sagas written before tokens, migrated to tenants and per-customer keys. */
describe('OrderTenancy migration', () => {
  let db: DataSource | undefined;

  afterEach(async () => {
    await db?.destroy();
    db = undefined;
  });

  const open = (migrations: AppPersistence['migrations']) =>
    openAppDataSource(
      appDataSourceOptions(TEST_DATABASE_URL, { ...orderPersistence, schema: SCHEMA, migrations }),
    );

  async function insertOrder(customerId: string, key: string | null, tenantId: string | null) {
    const orderId = randomUUID();
    await db!.query(
      `INSERT INTO ${SCHEMA}.orders (id, customer_id, currency, tenant_id, idempotency_key, request_hash, created_at)
       VALUES ($1, $2, 'EUR', $3, $4, 'h', now())`,
      [orderId, customerId, tenantId, key],
    );
    return orderId;
  }

  /** An order and its saga as the first migration's tables held them. */
  async function insertLegacyOrder(customerId: string, key: string, tenantId: string | null) {
    const orderId = await insertOrder(customerId, key, tenantId);
    await db!.query(
      `INSERT INTO ${SCHEMA}.sagas (id, order_id, state, version, currency, correlation_id, tenant_id, created_at, updated_at)
       VALUES ($1, $2, 'STARTED', 1, 'EUR', $3, $4, now(), now())`,
      [randomUUID(), orderId, orderId, tenantId],
    );
    return orderId;
  }

  it("puts the rows without a tenant in 'default', gives each saga its customer, and scopes the keys", async () => {
    await freshSchema(SCHEMA);
    db = await open([OrderTables1763900000000]);
    const legacy = await insertLegacyOrder('c-1', 'key-1', null);
    const tenanted = await insertLegacyOrder('c-2', 'key-2', 't-2');
    await db.destroy();

    db = await open(orderPersistence.migrations);
    const rows = await db.query<
      { id: string; order_tenant: string; saga_tenant: string; customer_id: string }[]
    >(
      `SELECT o.id, o.tenant_id AS order_tenant, s.tenant_id AS saga_tenant, s.customer_id
         FROM ${SCHEMA}.orders o JOIN ${SCHEMA}.sagas s ON s.order_id = o.id ORDER BY o.customer_id`,
    );
    expect(rows).toEqual([
      { id: legacy, order_tenant: 'default', saga_tenant: 'default', customer_id: 'c-1' },
      { id: tenanted, order_tenant: 't-2', saga_tenant: 't-2', customer_id: 'c-2' },
    ]);
    await expect(insertOrder('c-3', null, null)).rejects.toThrow(/null value/);
    // A key is one customer's of one tenant: another customer, or the same one elsewhere, may hold it.
    await insertOrder('c-2', 'key-1', 'default');
    await insertOrder('c-1', 'key-1', 't-2');
    const taken = await insertOrder('c-1', 'key-1', 'default').catch((error: unknown) => error);
    expect(isUniqueViolation(taken, 'orders_idempotency_key')).toBe(true);
  });
});
