import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * Strategies belong to a tenant (every read and command is scoped by it) and remember who created
 * them; their orders carry the tenant too, for the events they cause. Rows from before tenancy
 * belong to the default tenant; their creator is unknown.
 */
export class StrategyTenancy1764900000000 implements MigrationInterface {
  name = 'StrategyTenancy1764900000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`
      ALTER TABLE "${schema}".strategies
        ADD COLUMN tenant_id text NOT NULL DEFAULT 'default',
        ADD COLUMN created_by text`);
    // The default only fills the existing rows: new ones must name their tenant.
    await runner.query(`ALTER TABLE "${schema}".strategies ALTER COLUMN tenant_id DROP DEFAULT`);
    // GET /v1/trading/strategies: one tenant's, newest first.
    await runner.query(
      `CREATE INDEX strategies_tenant ON "${schema}".strategies (tenant_id, created_at DESC)`,
    );
    await runner.query(`ALTER TABLE "${schema}".orders ADD COLUMN tenant_id text`);
    await runner.query(`
      UPDATE "${schema}".orders o SET tenant_id = s.tenant_id
        FROM "${schema}".strategies s WHERE s.id = o.strategy_id`);
    await runner.query(`ALTER TABLE "${schema}".orders ALTER COLUMN tenant_id SET NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`ALTER TABLE "${schema}".orders DROP COLUMN tenant_id`);
    await runner.query(`DROP INDEX "${schema}".strategies_tenant`);
    await runner.query(
      `ALTER TABLE "${schema}".strategies DROP COLUMN created_by, DROP COLUMN tenant_id`,
    );
  }
}
