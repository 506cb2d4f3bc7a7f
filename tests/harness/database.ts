import { Client } from 'pg';
import { ensureDatabaseAndSchema, OPERATOR_ROLE, quoteIdentifier, urlAs } from '@lib/persistence';
import {
  devAppDatabaseUrl,
  devConsoleDatabaseUrl,
  devLogin,
  ensureDevRoles,
  SCHEMA_OWNER,
} from '../../infra/postgres/app-roles';

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

/** The schema owner on the test database: what apps in tests migrate with. */
export const TEST_OWNER_URL = urlAs(TEST_DATABASE_URL, devLogin(SCHEMA_OWNER));
/** The operators' role, as the CLI logs in (saga_operator: reads sagas, writes audit records). */
export const TEST_OPERATOR_URL = urlAs(TEST_DATABASE_URL, devLogin(OPERATOR_ROLE));

let rolesReady: Promise<void> | undefined;

function devRoles(): Promise<void> {
  rolesReady ??= ensureDevRoles(TEST_DATABASE_URL);
  return rolesReady;
}

/** The console's DATABASE_URL in tests: its own role, which may only add audit records. */
export async function consoleDatabaseUrl(): Promise<string> {
  await devRoles();
  return devConsoleDatabaseUrl(TEST_DATABASE_URL);
}

/**
 * An app's database variables in tests, as in production: it serves as its own role and migrates
 * as the schema owner, so touching another app's schema fails here. The roles are made once.
 */
export async function appDatabaseEnv(
  app: string,
): Promise<{ DATABASE_URL: string; DATABASE_MIGRATION_URL: string }> {
  await devRoles();
  return {
    DATABASE_URL: devAppDatabaseUrl(TEST_DATABASE_URL, app),
    DATABASE_MIGRATION_URL: TEST_OWNER_URL,
  };
}
