import { Client } from 'pg';
import { ensureDatabaseAndSchema, quoteIdentifier } from '@lib/persistence';

/** Tests use their own database on the local Postgres, never the one `npm run dev` uses. */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/saga_test';

/** Drops and re-creates a schema so a suite starts from nothing (its migrations then run at boot). */
export async function freshSchema(schema: string): Promise<void> {
  await ensureDatabaseAndSchema(TEST_DATABASE_URL, 'public');
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

export async function query<T = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
