import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * What the HTTP edge keeps in each app's own schema: the audit trail of critical actions and denied
 * requests, and the answers to requests sent with an Idempotency-Key.
 */
export class EdgeTables1764800000000 implements MigrationInterface {
  name = 'EdgeTables1764800000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${schema}".audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor text NOT NULL,
        tenant_id text,
        action text NOT NULL,
        entity_type text,
        entity_id text,
        result text NOT NULL CHECK (result IN ('success', 'denied', 'failed')),
        reason text,
        request_id text,
        correlation_id text,
        details jsonb
      )`);
    // GET /audit filters by tenant and then by entity, actor or time, newest first.
    await runner.query(
      `CREATE INDEX audit_log_entity ON "${schema}".audit_log (tenant_id, entity_id, id)`,
    );
    await runner.query(
      `CREATE INDEX audit_log_actor ON "${schema}".audit_log (tenant_id, actor, id)`,
    );
    await runner.query(`CREATE INDEX audit_log_tenant ON "${schema}".audit_log (tenant_id, id)`);
    // A key belongs to one principal of one tenant on one route: nobody else can hit or probe it.
    await runner.query(`
      CREATE TABLE "${schema}".idempotency_keys (
        tenant_id text NOT NULL,
        principal text NOT NULL,
        route text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, principal, route, key)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".idempotency_keys`);
    await runner.query(`DROP TABLE "${schemaOf(runner)}".audit_log`);
  }
}
