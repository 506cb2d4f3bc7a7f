import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/** Payments and the Stripe events already handled, in the schema of the data source that runs it. */
export class PaymentTables1764100000000 implements MigrationInterface {
  name = 'PaymentTables1764100000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    // One row per order: a CANCELLED row without an intent is a tombstone that blocks a late request.
    await runner.query(`
      CREATE TABLE "${schema}".payments (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL UNIQUE,
        status text NOT NULL CHECK (status IN
          ('CREATING', 'PENDING', 'AUTHORIZED', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'REFUNDED')),
        amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
        currency text,
        payment_intent_id text UNIQUE,
        client_secret text,
        failure_reason text,
        failure_code text,
        decline_code text,
        correlation_id text NOT NULL,
        saga_id text,
        tenant_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Stripe delivers at least once: the event id is the de-duplication key.
    await runner.query(`
      CREATE TABLE "${schema}".stripe_events (
        id text PRIMARY KEY,
        type text NOT NULL,
        payment_intent_id text,
        outcome text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`DROP TABLE "${schema}".stripe_events`);
    await runner.query(`DROP TABLE "${schema}".payments`);
  }
}
