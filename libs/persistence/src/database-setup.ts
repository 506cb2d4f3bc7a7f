import { Client } from 'pg';
import { isUniqueViolation } from './raw-sql';

const DATABASE_DOES_NOT_EXIST = '3D000';
const DUPLICATE_DATABASE = '42P04';

/** Two sessions creating the same database or schema at once: the loser trips the catalog index. */
function createdMeanwhile(error: unknown): boolean {
  return (error as { code?: string }).code === DUPLICATE_DATABASE || isUniqueViolation(error);
}

/**
 * Creates the app's database (when the URL names one that is missing, the role may create it and
 * `createDatabase` allows it: not in production, where the DBA makes it) and its schema, so a fresh
 * Postgres needs no manual step before the first boot.
 */
export async function ensureDatabaseAndSchema(
  url: string,
  schema: string,
  createDatabase = true,
): Promise<void> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    if (!createDatabase || (error as { code?: string }).code !== DATABASE_DOES_NOT_EXIST)
      throw error;
    await createMissingDatabase(url);
    return ensureDatabaseAndSchema(url, schema);
  }
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  } catch (error) {
    if (!createdMeanwhile(error)) throw error;
  } finally {
    await client.end();
  }
}

async function createMissingDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
  } catch (error) {
    // Another instance booting at the same moment may have created it first.
    if (!createdMeanwhile(error)) throw error;
  } finally {
    await client.end();
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
