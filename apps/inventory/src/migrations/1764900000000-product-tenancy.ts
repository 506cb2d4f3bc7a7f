import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * Products belong to a tenant: the key becomes (tenant_id, sku), and a reservation line names the
 * product it holds by that key. What exists already is the default tenant's.
 */
export class ProductTenancy1764900000000 implements MigrationInterface {
  name = 'ProductTenancy1764900000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    const products = `"${schema}".products`;
    const lines = `"${schema}".reservation_lines`;
    const reservations = `"${schema}".reservations`;
    await runner.query(
      `ALTER TABLE ${products} ADD COLUMN tenant_id text NOT NULL DEFAULT 'default'`,
    );
    await runner.query(`ALTER TABLE ${lines} DROP CONSTRAINT reservation_lines_sku_fkey`);
    await runner.query(
      `ALTER TABLE ${products} DROP CONSTRAINT products_pkey, ADD PRIMARY KEY (tenant_id, sku)`,
    );
    // Every line holds a product that was just given to the default tenant, whatever tenant its
    // reservation names: the line follows its product, so releasing it returns the stock it took.
    await runner.query(`ALTER TABLE ${lines} ADD COLUMN tenant_id text NOT NULL DEFAULT 'default'`);
    await runner.query(
      `ALTER TABLE ${lines} ADD FOREIGN KEY (tenant_id, sku) REFERENCES ${products} (tenant_id, sku)`,
    );
    await runner.query(`UPDATE ${reservations} SET tenant_id = 'default' WHERE tenant_id IS NULL`);
    await runner.query(`ALTER TABLE ${reservations} ALTER COLUMN tenant_id SET NOT NULL`);
    // From now on every writer names the tenant: a row without one is a bug, not the default's.
    await runner.query(`ALTER TABLE ${products} ALTER COLUMN tenant_id DROP DEFAULT`);
    await runner.query(`ALTER TABLE ${lines} ALTER COLUMN tenant_id DROP DEFAULT`);
  }

  /** Only while each SKU is still one tenant's: the old key cannot hold two tenants' products. */
  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    const products = `"${schema}".products`;
    const lines = `"${schema}".reservation_lines`;
    await runner.query(`ALTER TABLE "${schema}".reservations ALTER COLUMN tenant_id DROP NOT NULL`);
    await runner.query(`ALTER TABLE ${lines} DROP CONSTRAINT reservation_lines_tenant_id_sku_fkey`);
    await runner.query(`ALTER TABLE ${lines} DROP COLUMN tenant_id`);
    await runner.query(
      `ALTER TABLE ${products} DROP CONSTRAINT products_pkey, ADD PRIMARY KEY (sku)`,
    );
    await runner.query(`ALTER TABLE ${products} DROP COLUMN tenant_id`);
    await runner.query(`ALTER TABLE ${lines} ADD FOREIGN KEY (sku) REFERENCES ${products} (sku)`);
  }
}
