import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/** Outbox and inbox tables in the schema of whichever app runs it. */
export class MessagingTables1763800000000 implements MigrationInterface {
  name = 'MessagingTables1763800000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${schema}".outbox (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        subject text NOT NULL,
        body text NOT NULL,
        correlation_id text NOT NULL,
        causation_id text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        published_at timestamptz
      )`);
    await runner.query(
      `CREATE INDEX outbox_unpublished ON "${schema}".outbox (id) WHERE published_at IS NULL`,
    );
    await runner.query(`CREATE INDEX outbox_published_at ON "${schema}".outbox (published_at)`);
    // Wakes the relay at commit time; a rolled-back insert notifies nobody.
    await runner.query(`
      CREATE FUNCTION "${schema}".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${schema}_outbox', '');
        RETURN NULL;
      END $$`);
    await runner.query(`
      CREATE TRIGGER outbox_notify AFTER INSERT ON "${schema}".outbox
      FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".outbox_notify()`);
    await runner.query(`
      CREATE TABLE "${schema}".inbox (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`DROP TABLE "${schema}".inbox`);
    await runner.query(`DROP TABLE "${schema}".outbox`);
    await runner.query(`DROP FUNCTION "${schema}".outbox_notify()`);
  }
}
