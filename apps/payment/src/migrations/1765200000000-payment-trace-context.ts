import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * The trace the payment was requested in (W3C headers), when tracing is on. It goes into the
 * PaymentIntent's metadata, so Stripe's webhooks can be linked to it; kept on the row so that every
 * retry of the creation sends the same metadata under its idempotency key.
 */
export class PaymentTraceContext1765200000000 implements MigrationInterface {
  name = 'PaymentTraceContext1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".payments ADD COLUMN trace_context jsonb`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".payments DROP COLUMN trace_context`);
  }
}
