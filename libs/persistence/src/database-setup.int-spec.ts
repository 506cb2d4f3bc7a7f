import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { TEST_DATABASE_URL } from '../../../tests/harness/database';
import { ensureDatabaseAndSchema } from './database-setup';

/** Several apps (or test suites) boot at once against a Postgres that has no database yet. */
describe('ensureDatabaseAndSchema', () => {
  const database = `saga_setup_${randomUUID().slice(0, 8)}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;

  afterAll(async () => {
    const admin = new URL(TEST_DATABASE_URL);
    admin.pathname = '/postgres';
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${database}"`);
    await client.end();
  });

  it('creates a missing database and schema once when many callers race for them', async () => {
    const schemas = ['orders', 'orders', 'inventory', 'inventory', 'payments', 'public'];
    await Promise.all(schemas.map((schema) => ensureDatabaseAndSchema(url.toString(), schema)));

    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    const { rows } = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname`,
      [schemas],
    );
    await client.end();
    expect(rows.map((row) => row.nspname)).toEqual(['inventory', 'orders', 'payments', 'public']);
  });
});
