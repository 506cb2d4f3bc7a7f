import { AppPersistence } from '@lib/platform';
import {
  CONSOLE_ROLE,
  ensureDatabaseAndSchema,
  ensureLoginRoles,
  OPERATOR_ROLE,
  quoteIdentifier,
  RoleLogin,
  urlAs,
} from '@lib/persistence';
import { Client } from 'pg';
import { inventoryPersistence } from '../../apps/inventory/src/persistence';
import { orderPersistence } from '../../apps/order/src/persistence';
import { paymentPersistence } from '../../apps/payment/src/persistence';
import { tradingPersistence } from '../../apps/trading/src/persistence';

/** Every app's schema, role, entities and migrations, by app name. */
export const APPS: Record<string, AppPersistence> = {
  order: orderPersistence,
  payment: paymentPersistence,
  inventory: inventoryPersistence,
  trading: tradingPersistence,
};

/** The role that owns the schemas and runs the migrations (DATABASE_MIGRATION_URL). */
export const SCHEMA_OWNER = 'saga_owner';

/**
 * Development and test logins: the password is the role's name, which production refuses
 * (DATABASE_URL has the development password).
 */
export function devLogin(role: string): RoleLogin {
  return { role, password: role };
}

/**
 * The roles of `npm run dev`, the tests and CI, on the server and database of `adminUrl` (a
 * superuser): the schema owner, which may create schemas in that database, one role per app, and
 * the operators' role the CLI logs in as, and the console's.
 */
export async function ensureDevRoles(adminUrl: string): Promise<void> {
  await ensureDatabaseAndSchema(adminUrl, 'public');
  await ensureLoginRoles(adminUrl, [
    devLogin(SCHEMA_OWNER),
    devLogin(OPERATOR_ROLE),
    devLogin(CONSOLE_ROLE),
    ...Object.values(APPS).map((app) => devLogin(app.role)),
  ]);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const [row] = (await client.query<{ name: string }>('SELECT current_database() AS name')).rows;
    await client.query(
      `GRANT CREATE ON DATABASE ${quoteIdentifier(row!.name)} TO ${quoteIdentifier(SCHEMA_OWNER)}`,
    );
  } finally {
    await client.end();
  }
}

/** An app's DATABASE_URL in development and tests: its own role on the database of `adminUrl`. */
export function devAppDatabaseUrl(adminUrl: string, app: string): string {
  const persistence = APPS[app];
  if (!persistence) throw new Error(`unknown app ${app}`);
  return urlAs(adminUrl, devLogin(persistence.role));
}

/** The console's DATABASE_URL in development and tests: its own role (audit records only). */
export function devConsoleDatabaseUrl(adminUrl: string): string {
  return urlAs(adminUrl, devLogin(CONSOLE_ROLE));
}
