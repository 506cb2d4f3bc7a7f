import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/** Strategies, their orders and fills, and the paper exchange's book. */
export class TradingTables1764100000000 implements MigrationInterface {
  name = 'TradingTables1764100000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${schema}".strategies (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        symbol text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('ma-crossover', 'grid')),
        params jsonb NOT NULL,
        max_position integer NOT NULL CHECK (max_position >= 0),
        max_order_qty integer NOT NULL CHECK (max_order_qty > 0),
        max_orders_per_minute integer NOT NULL CHECK (max_orders_per_minute > 0),
        state text NOT NULL CHECK (state IN ('Idle', 'Live', 'Stopped')),
        pending_command text CHECK (pending_command IN ('deploy', 'stop')),
        tick integer NOT NULL DEFAULT 0,
        quantity integer NOT NULL DEFAULT 0,
        average_price double precision NOT NULL DEFAULT 0,
        realised_pnl double precision NOT NULL DEFAULT 0,
        last_price double precision,
        ticked_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One decision per tick: an instance that lost its lease mid-tick cannot record a second one.
    await runner.query(`
      CREATE TABLE "${schema}".orders (
        id uuid PRIMARY KEY,
        strategy_id uuid NOT NULL REFERENCES "${schema}".strategies (id),
        tick integer NOT NULL,
        symbol text NOT NULL,
        side text NOT NULL CHECK (side IN ('buy', 'sell')),
        quantity integer NOT NULL CHECK (quantity > 0),
        reference_price double precision NOT NULL,
        status text NOT NULL CHECK (status IN
          ('NEW', 'SUBMITTED', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'REJECTED')),
        filled_quantity integer NOT NULL DEFAULT 0 CHECK (filled_quantity BETWEEN 0 AND quantity),
        average_fill_price double precision,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (strategy_id, tick)
      )`);
    // The runner looks for open orders on every pass.
    await runner.query(`
      CREATE INDEX orders_open ON "${schema}".orders (strategy_id)
      WHERE status IN ('NEW', 'SUBMITTED', 'PARTIALLY_FILLED')`);
    await runner.query(`
      CREATE TABLE "${schema}".fills (
        fill_id text PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES "${schema}".orders (id),
        quantity integer NOT NULL CHECK (quantity > 0),
        price double precision NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX fills_order ON "${schema}".fills (order_id)`);
    await runner.query(`
      CREATE TABLE "${schema}".paper_exchange_orders (
        client_order_id text PRIMARY KEY,
        symbol text NOT NULL,
        side text NOT NULL,
        quantity integer NOT NULL,
        fill_price double precision NOT NULL,
        rejected_reason text,
        fill_parts integer NOT NULL,
        latency_ms integer NOT NULL,
        submissions integer NOT NULL DEFAULT 1,
        accepted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        cancelled_at timestamptz
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    for (const table of ['paper_exchange_orders', 'fills', 'orders', 'strategies']) {
      await runner.query(`DROP TABLE "${schema}".${table}`);
    }
  }
}
