import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * The trace the saga started in (`POST /orders`, W3C headers), when tracing is on: a deadline that
 * fires later starts a trace of its own linked to it, and operators find the order's trace by it.
 */
export class SagaTraceContext1765200000000 implements MigrationInterface {
  name = 'SagaTraceContext1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".sagas ADD COLUMN trace_context jsonb`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".sagas DROP COLUMN trace_context`);
  }
}
