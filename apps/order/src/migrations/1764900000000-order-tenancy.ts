import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * Orders and sagas belong to a tenant (the token's; 'default' for the rows written before tokens),
 * the saga knows its customer (its payment request names it, and a cancel is scoped by it), and an
 * Idempotency-Key is one customer's of one tenant instead of global.
 */
export class OrderTenancy1764900000000 implements MigrationInterface {
  name = 'OrderTenancy1764900000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    for (const table of ['orders', 'sagas']) {
      await runner.query(
        `UPDATE "${schema}".${table} SET tenant_id = 'default' WHERE tenant_id IS NULL`,
      );
      await runner.query(`ALTER TABLE "${schema}".${table} ALTER COLUMN tenant_id SET NOT NULL`);
    }
    await runner.query(`ALTER TABLE "${schema}".sagas ADD COLUMN customer_id text`);
    await runner.query(`
      UPDATE "${schema}".sagas s SET customer_id = o.customer_id
        FROM "${schema}".orders o WHERE o.id = s.order_id`);
    await runner.query(`ALTER TABLE "${schema}".sagas ALTER COLUMN customer_id SET NOT NULL`);
    // Replaying a key looks the order up by this index; reads by id go by the primary key and
    // check tenant and customer on the row they find.
    await runner.query(`ALTER TABLE "${schema}".orders DROP CONSTRAINT orders_idempotency_key_key`);
    await runner.query(`
      CREATE UNIQUE INDEX orders_idempotency_key ON "${schema}".orders
        (tenant_id, customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`DROP INDEX "${schema}".orders_idempotency_key`);
    await runner.query(
      `ALTER TABLE "${schema}".orders ADD CONSTRAINT orders_idempotency_key_key UNIQUE (idempotency_key)`,
    );
    await runner.query(`ALTER TABLE "${schema}".sagas DROP COLUMN customer_id`);
    for (const table of ['orders', 'sagas']) {
      await runner.query(`ALTER TABLE "${schema}".${table} ALTER COLUMN tenant_id DROP NOT NULL`);
    }
  }
}
