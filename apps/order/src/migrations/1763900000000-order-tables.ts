import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

export class OrderTables1763900000000 implements MigrationInterface {
  name = 'OrderTables1763900000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${schema}".orders (
        id uuid PRIMARY KEY,
        customer_id text NOT NULL,
        currency text NOT NULL,
        tenant_id text,
        total_minor bigint,
        idempotency_key text UNIQUE,
        request_hash text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE "${schema}".order_lines (
        order_id uuid NOT NULL REFERENCES "${schema}".orders (id),
        sku text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        unit_price_minor bigint,
        PRIMARY KEY (order_id, sku)
      )`);
    await runner.query(`
      CREATE TABLE "${schema}".sagas (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL UNIQUE REFERENCES "${schema}".orders (id),
        state text NOT NULL,
        version integer NOT NULL,
        deadline_at timestamptz,
        reservation_id uuid,
        amount_minor bigint,
        currency text NOT NULL,
        correlation_id text NOT NULL,
        tenant_id text,
        reason text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // The deadline scanner reads only sagas that wait for something.
    await runner.query(
      `CREATE INDEX sagas_due ON "${schema}".sagas (deadline_at) WHERE deadline_at IS NOT NULL`,
    );
    await runner.query(`CREATE INDEX sagas_state ON "${schema}".sagas (state, updated_at)`);
    await runner.query(`
      CREATE TABLE "${schema}".saga_steps (
        id bigserial PRIMARY KEY,
        saga_id uuid NOT NULL REFERENCES "${schema}".sagas (id),
        from_state text,
        to_state text NOT NULL,
        trigger text NOT NULL,
        event_id uuid,
        reason text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await runner.query(`CREATE INDEX saga_steps_saga ON "${schema}".saga_steps (saga_id, id)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    for (const table of ['saga_steps', 'sagas', 'order_lines', 'orders']) {
      await runner.query(`DROP TABLE "${schema}".${table}`);
    }
  }
}
