import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * The PaymentIntent a saga believes (from `payment.pending`, or the first `payment.succeeded`): a
 * later payment reply naming another one is refused. Null until payment answers.
 */
export class SagaPaymentIntent1765000000000 implements MigrationInterface {
  name = 'SagaPaymentIntent1765000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".sagas ADD COLUMN payment_intent_id text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".sagas DROP COLUMN payment_intent_id`);
  }
}
