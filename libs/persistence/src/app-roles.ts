import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { quoteIdentifier } from './database-setup';

/** A refusal to run against the database as configured: reported in one line, never retried. */
export class DatabaseRefusal extends Error {
  override readonly name = 'DatabaseRefusal';
}

const UNDEFINED_TABLE = '42P01';
const DUPLICATE_OBJECT = '42710';
const UNIQUE_VIOLATION = '23505';

/**
 * What an app's own role may do in its schema: read and write rows and draw ids, nothing else (no
 * DDL, no other schema). Run by the owner after every migration run, so tables created by any
 * migration are covered, and the default privileges cover what the owner creates later by hand.
 * A role that does not exist (yet) is skipped: nobody can log in as it, so nothing runs without
 * the grants; creating it later needs a migration run (`--setup-only`) to grant it.
 */
export async function grantAppRole(
  dataSource: DataSource,
  schema: string,
  role: string,
): Promise<void> {
  const exists = await dataSource.query<unknown[]>('SELECT 1 FROM pg_roles WHERE rolname = $1', [
    role,
  ]);
  if (exists.length === 0) return;
  const s = quoteIdentifier(schema);
  const r = quoteIdentifier(role);
  await dataSource.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
  await dataSource.query(
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
  );
  await dataSource.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`);
  await dataSource.query(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
  );
  await dataSource.query(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${r}`,
  );
}

/**
 * The operators' role (`npm run cli` in production: `saga show`, `sagas stuck`, and the audit
 * records of replays and purges): a login role the DBA creates, no superuser. It reads the tables
 * the CLI shows (`reads`) and writes the schema's audit trail, nothing else; granted by the
 * owner after every migration run, so a new schema or table is covered. A role that does not
 * exist is skipped, as for the apps' roles.
 */
export const OPERATOR_ROLE = 'saga_operator';

export async function grantOperatorRole(
  dataSource: DataSource,
  schema: string,
  reads: readonly string[],
): Promise<void> {
  if (!(await roleExists(dataSource, OPERATOR_ROLE))) return;
  const s = quoteIdentifier(schema);
  const r = quoteIdentifier(OPERATOR_ROLE);
  await dataSource.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
  for (const table of reads)
    await dataSource.query(`GRANT SELECT ON ${s}.${quoteIdentifier(table)} TO ${r}`);
  await dataSource.query(`GRANT SELECT ON ${s}.audit_log TO ${r}`);
  await grantAuditInsert(dataSource, s, r);
}

/**
 * The console's role (apps/console): it reads nothing in Postgres (sagas come through the order
 * app's API) and writes one thing, the audit records of its dead-letter replays and purges, into
 * the audit trail of the app that owns the consumer. INSERT only: it can neither read nor change
 * a record. Granted, and skipped when missing, like the operators' role.
 */
export const CONSOLE_ROLE = 'saga_console';

export async function grantConsoleRole(dataSource: DataSource, schema: string): Promise<void> {
  if (!(await roleExists(dataSource, CONSOLE_ROLE))) return;
  const s = quoteIdentifier(schema);
  const r = quoteIdentifier(CONSOLE_ROLE);
  await dataSource.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
  await grantAuditInsert(dataSource, s, r);
}

async function roleExists(dataSource: DataSource, role: string): Promise<boolean> {
  const rows = await dataSource.query<unknown[]>('SELECT 1 FROM pg_roles WHERE rolname = $1', [
    role,
  ]);
  return rows.length > 0;
}

/** Adding records to the schema's audit trail: the table and the sequence of its ids. */
async function grantAuditInsert(dataSource: DataSource, s: string, r: string): Promise<void> {
  await dataSource.query(`GRANT INSERT ON ${s}.audit_log TO ${r}`);
  const [sequence] = await dataSource.query<{ name: string }[]>(
    'SELECT pg_get_serial_sequence($1, $2) AS name',
    [`${s}.audit_log`, 'id'],
  );
  await dataSource.query(`GRANT USAGE ON SEQUENCE ${sequence!.name} TO ${r}`);
}

/** Production: an app connected as a superuser would bypass every grant; it refuses to start. */
export async function refuseSuperuser(dataSource: DataSource): Promise<void> {
  const [row] = await dataSource.query<{ name: string; rolsuper: boolean }[]>(
    'SELECT current_user AS name, rolsuper FROM pg_roles WHERE rolname = current_user',
  );
  if (row?.rolsuper) {
    throw new DatabaseRefusal(
      `DATABASE_URL connects as the superuser "${row.name}": give the app its own role in production`,
    );
  }
}

/** Without a migration URL the app cannot migrate: its schema must be up to date already. */
export async function refusePendingMigrations(
  dataSource: DataSource,
  schema: string,
): Promise<void> {
  const applied = await dataSource
    .query(`SELECT name FROM ${quoteIdentifier(schema)}.migrations`)
    .then((rows: { name: string }[]) => new Set(rows.map((row) => row.name)))
    .catch((error: unknown) => {
      // No migrations table yet: nothing was ever applied.
      if ((error as { code?: string }).code !== UNDEFINED_TABLE) throw error;
      return new Set<string>();
    });
  const pending = dataSource.migrations.filter((m) => !applied.has(m.name ?? m.constructor.name));
  if (pending.length > 0) {
    throw new DatabaseRefusal(
      `schema "${schema}" has ${pending.length} pending migration(s): run the app with --setup-only and DATABASE_MIGRATION_URL first`,
    );
  }
}

export interface RoleLogin {
  role: string;
  password: string;
}

/**
 * Creates login roles that may do nothing by themselves (no superuser, no CREATEDB, no
 * CREATEROLE): for `npm run dev` and the tests; production roles come from the DBA. Several test
 * suites or helpers may race for the same cluster-wide role.
 */
export async function ensureLoginRoles(adminUrl: string, logins: RoleLogin[]): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const { role, password } of logins) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount) continue;
      try {
        await client.query(
          `CREATE ROLE ${quoteIdentifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quoteLiteral(password)}`,
        );
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== DUPLICATE_OBJECT && code !== UNIQUE_VIOLATION) throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** The same server and database as `url`, logged in as another role. */
export function urlAs(url: string, { role, password }: RoleLogin): string {
  const target = new URL(url);
  target.username = encodeURIComponent(role);
  target.password = encodeURIComponent(password);
  return target.toString();
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
