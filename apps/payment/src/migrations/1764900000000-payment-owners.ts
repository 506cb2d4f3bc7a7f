import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * Whose payment it is: the customer who placed the order (unknown for payments requested before
 * `order.payment-requested` carried it, and for tombstones) and the tenant, which every payment now
 * has: rows from before tenancy belong to the default tenant.
 */
export class PaymentOwners1764900000000 implements MigrationInterface {
  name = 'PaymentOwners1764900000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`ALTER TABLE "${schema}".payments ADD COLUMN customer_id text`);
    await runner.query(
      `UPDATE "${schema}".payments SET tenant_id = 'default' WHERE tenant_id IS NULL`,
    );
    await runner.query(`ALTER TABLE "${schema}".payments ALTER COLUMN tenant_id SET NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`ALTER TABLE "${schema}".payments ALTER COLUMN tenant_id DROP NOT NULL`);
    await runner.query(`ALTER TABLE "${schema}".payments DROP COLUMN customer_id`);
  }
}
