import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * The process that commits outbox rows publishes them itself (OutboxPublisher); the relay only
 * polls for what it could not, so commits no longer notify anyone.
 */
export class OutboxWithoutNotify1765100000000 implements MigrationInterface {
  name = 'OutboxWithoutNotify1765100000000';

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`DROP TRIGGER outbox_notify ON "${schema}".outbox`);
    await runner.query(`DROP FUNCTION "${schema}".outbox_notify()`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`
      CREATE FUNCTION "${schema}".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${schema}_outbox', '');
        RETURN NULL;
      END $$`);
    await runner.query(`
      CREATE TRIGGER outbox_notify AFTER INSERT ON "${schema}".outbox
      FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".outbox_notify()`);
  }
}
