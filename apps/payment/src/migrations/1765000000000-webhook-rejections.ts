import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/** Why a stored Stripe event was `rejected`: it did not match the payment it named. */
export class WebhookRejections1765000000000 implements MigrationInterface {
  name = 'WebhookRejections1765000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".stripe_events ADD COLUMN reason text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".stripe_events DROP COLUMN reason`);
  }
}
