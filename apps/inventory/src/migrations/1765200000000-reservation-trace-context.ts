import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * The trace of the order a reservation was made for (W3C headers), when tracing is on: the cleaner
 * that expires it starts a trace of its own linked to it.
 */
export class ReservationTraceContext1765200000000 implements MigrationInterface {
  name = 'ReservationTraceContext1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE "${schemaOf(runner)}".reservations ADD COLUMN trace_context jsonb`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".reservations DROP COLUMN trace_context`);
  }
}
