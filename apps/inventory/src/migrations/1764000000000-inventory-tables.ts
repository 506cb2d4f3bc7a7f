import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/** Products, reservations and their lines, in the schema of the data source that runs it. */
export class InventoryTables1764000000000 implements MigrationInterface {
  name = 'InventoryTables1764000000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    // The checks are the last line of defence for the stock invariant: nothing goes negative.
    await runner.query(`
      CREATE TABLE "${schema}".products (
        sku text PRIMARY KEY,
        name text NOT NULL,
        price_minor bigint NOT NULL CHECK (price_minor >= 0),
        currency text NOT NULL,
        available integer NOT NULL CHECK (available >= 0),
        reserved integer NOT NULL CHECK (reserved >= 0),
        committed integer NOT NULL CHECK (committed >= 0),
        low_stock_threshold integer NOT NULL CHECK (low_stock_threshold >= 0),
        low_stock_alerted boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per order: a cancelled tombstone also blocks a late order.created.
    await runner.query(`
      CREATE TABLE "${schema}".reservations (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL UNIQUE,
        status text NOT NULL
          CHECK (status IN ('ACTIVE', 'RELEASED', 'EXPIRED', 'COMMITTED', 'CANCELLED')),
        currency text,
        total_minor bigint NOT NULL CHECK (total_minor >= 0),
        expires_at timestamptz,
        released_reason text,
        correlation_id text NOT NULL,
        saga_id text,
        tenant_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The cleaner reads only active reservations, oldest deadline first.
    await runner.query(
      `CREATE INDEX reservations_due ON "${schema}".reservations (expires_at) WHERE status = 'ACTIVE'`,
    );
    await runner.query(`
      CREATE TABLE "${schema}".reservation_lines (
        reservation_id uuid NOT NULL REFERENCES "${schema}".reservations (id),
        sku text NOT NULL REFERENCES "${schema}".products (sku),
        quantity integer NOT NULL CHECK (quantity > 0),
        unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
        PRIMARY KEY (reservation_id, sku)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    for (const table of ['reservation_lines', 'reservations', 'products']) {
      await runner.query(`DROP TABLE "${schema}".${table}`);
    }
  }
}
