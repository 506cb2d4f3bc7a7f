import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/** The currency of each product, from `inventory.product-priced` (product-currencies.ts). */
export class ProductCurrencies1765400000000 implements MigrationInterface {
  name = 'ProductCurrencies1765400000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${schema}".product_currencies (
        tenant_id text NOT NULL,
        sku text NOT NULL,
        currency text NOT NULL,
        priced_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, sku)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".product_currencies`);
  }
}
