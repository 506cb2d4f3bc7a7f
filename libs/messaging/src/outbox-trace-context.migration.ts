import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/** The trace context each outbox row was written in (W3C headers), for the relay to continue. */
export class OutboxTraceContext1765200000000 implements MigrationInterface {
  name = 'OutboxTraceContext1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".outbox ADD COLUMN trace_context jsonb`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".outbox DROP COLUMN trace_context`);
  }
}
