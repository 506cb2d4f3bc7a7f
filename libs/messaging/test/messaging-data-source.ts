import { DataSource } from 'typeorm';
import { openAppDataSource } from '@lib/persistence';
import { freshSchema, TEST_DATABASE_URL } from '../../../tests/harness/database';
import { MESSAGING_ENTITIES, MESSAGING_MIGRATIONS } from '../src/index';

/** The messaging tables (inbox, outbox, dead letters) alone, migrated into a fresh `schema`. */
export async function messagingDataSource(schema: string): Promise<DataSource> {
  await freshSchema(schema);
  return openAppDataSource({
    url: TEST_DATABASE_URL,
    schema,
    entities: MESSAGING_ENTITIES,
    migrations: MESSAGING_MIGRATIONS,
  });
}
