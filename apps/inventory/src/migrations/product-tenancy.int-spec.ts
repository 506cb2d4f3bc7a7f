import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppDataSourceOptions, openAppDataSource } from '@lib/persistence';
import { freshSchema, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { InventoryTables1764000000000 } from './1764000000000-inventory-tables';
import { ProductTenancy1764900000000 } from './1764900000000-product-tenancy';

const SCHEMA = 'inventory_tenancy_migration_test';

/** The schema migrated up to `migrations`, as a deployed database would be. */
function migrated(migrations: AppDataSourceOptions['migrations']): Promise<DataSource> {
  return openAppDataSource({ url: TEST_DATABASE_URL, schema: SCHEMA, entities: [], migrations });
}

describe('the product tenancy migration', () => {
  let db: DataSource | undefined;

  afterEach(async () => {
    await db?.destroy();
    db = undefined;
  });

  it('gives what exists to the default tenant and keys products by tenant and SKU', async () => {
    await freshSchema(SCHEMA);
    db = await migrated([InventoryTables1764000000000]);
    const [untenanted, tenanted] = [randomUUID(), randomUUID()];
    await db.query(`INSERT INTO ${SCHEMA}.products
      (sku, name, price_minor, currency, available, reserved, committed, low_stock_threshold)
      VALUES ('OLD-1', 'Old', 100, 'EUR', 5, 3, 0, 0)`);
    for (const [id, tenantId, quantity] of [
      [untenanted, null, 1],
      [tenanted, 'tenant-1', 2],
    ] as const) {
      await db.query(
        `INSERT INTO ${SCHEMA}.reservations
          (id, order_id, status, currency, total_minor, expires_at, correlation_id, tenant_id)
          VALUES ($1, $2, 'ACTIVE', 'EUR', 100, now(), 'c', $3)`,
        [id, randomUUID(), tenantId],
      );
      await db.query(
        `INSERT INTO ${SCHEMA}.reservation_lines (reservation_id, sku, quantity, unit_price_minor)
          VALUES ($1, 'OLD-1', $2, 100)`,
        [id, quantity],
      );
    }
    await db.destroy();

    db = await migrated([InventoryTables1764000000000, ProductTenancy1764900000000]);
    expect(await db.query(`SELECT tenant_id, sku FROM ${SCHEMA}.products`)).toEqual([
      { tenant_id: 'default', sku: 'OLD-1' },
    ]);
    expect(
      await db.query(
        `SELECT r.id, r.tenant_id, l.tenant_id AS line_tenant FROM ${SCHEMA}.reservations r
          JOIN ${SCHEMA}.reservation_lines l ON l.reservation_id = r.id ORDER BY l.quantity`,
      ),
    ).toEqual([
      { id: untenanted, tenant_id: 'default', line_tenant: 'default' },
      // A line holds the product it took units of, now the default tenant's.
      { id: tenanted, tenant_id: 'tenant-1', line_tenant: 'default' },
    ]);

    // Another tenant may have the SKU; a line must name an existing product of its tenant.
    await db.query(`INSERT INTO ${SCHEMA}.products
      (tenant_id, sku, name, price_minor, currency, available, reserved, committed, low_stock_threshold)
      VALUES ('tenant-1', 'OLD-1', 'Mine', 1, 'EUR', 1, 0, 0, 0)`);
    const fresh = randomUUID();
    await db.query(
      `INSERT INTO ${SCHEMA}.reservations
        (id, order_id, status, currency, total_minor, correlation_id, tenant_id)
        VALUES ($1, $2, 'ACTIVE', 'EUR', 1, 'c', 'tenant-2')`,
      [fresh, randomUUID()],
    );
    await expect(
      db.query(
        `INSERT INTO ${SCHEMA}.reservation_lines
          (reservation_id, tenant_id, sku, quantity, unit_price_minor)
          VALUES ($1, 'tenant-2', 'OLD-1', 1, 1)`,
        [fresh],
      ),
    ).rejects.toThrow(/foreign key/);
    // No row is the default tenant's by omission any more.
    await expect(
      db.query(`INSERT INTO ${SCHEMA}.products
        (sku, name, price_minor, currency, available, reserved, committed, low_stock_threshold)
        VALUES ('NEW-1', 'New', 1, 'EUR', 1, 0, 0, 0)`),
    ).rejects.toThrow(/tenant_id/);
  });

  it('reverts while every SKU is one tenant’s', async () => {
    await freshSchema(SCHEMA);
    db = await migrated([InventoryTables1764000000000, ProductTenancy1764900000000]);
    await db.undoLastMigration();
    const columns = await db.query<{ column_name: string }[]>(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = $1 AND table_name IN ('products', 'reservation_lines')
          AND column_name = 'tenant_id'`,
      [SCHEMA],
    );
    expect(columns).toEqual([]);
  });
});
