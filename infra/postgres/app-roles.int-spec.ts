import { Client } from 'pg';
import { appDataSourceOptions } from '@lib/platform';
import { bootAppDataSource, DatabaseRefusal, openAppDataSource } from '@lib/persistence';
import {
  appDatabaseEnv,
  consoleDatabaseUrl,
  freshSchema,
  query,
  TEST_DATABASE_URL,
  TEST_OPERATOR_URL,
  TEST_OWNER_URL,
} from '../../tests/harness/database';
import { APPS, SCHEMA_OWNER } from './app-roles';

const PERMISSION_DENIED = '42501';

/** Each app's role against the migrated schemas of all four: its own is usable, nothing else is. */
describe('the Postgres role of each app', () => {
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    await Promise.all(Object.values(APPS).map((app) => freshSchema(app.schema)));
    for (const [name, persistence] of Object.entries(APPS)) {
      urls[name] = (await appDatabaseEnv(name)).DATABASE_URL;
      const migrated = await openAppDataSource(appDataSourceOptions(TEST_OWNER_URL, persistence));
      await migrated.destroy();
    }
  });

  const connectAs = async (app: string): Promise<Client> => {
    const client = new Client({ connectionString: urls[app] });
    await client.connect();
    return client;
  };

  /** The SQLSTATE a statement fails with, or 'ok'. */
  const outcome = async (client: Client, sql: string): Promise<string> =>
    client.query(sql).then(
      () => 'ok',
      (error: { code?: string }) => error.code ?? 'unknown',
    );

  it('are migrated by the schema owner, who owns the schemas and their tables', async () => {
    const owners = await query<{ schema: string; owner: string; tables: string[] }>(
      `SELECT n.nspname AS schema, n.nspowner::regrole::text AS owner,
              array_agg(DISTINCT c.relowner::regrole::text) AS tables
       FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
       WHERE n.nspname = ANY($1) GROUP BY 1, 2`,
      [Object.values(APPS).map((app) => app.schema)],
    );
    expect(owners).toHaveLength(4);
    for (const row of owners)
      expect(row).toMatchObject({ owner: SCHEMA_OWNER, tables: [SCHEMA_OWNER] });
  });

  it('lets order_app read, write and draw ids in its own schema', async () => {
    const writer = await connectAs('order');
    try {
      const eventId = '00000000-0000-4000-8000-000000000001';
      const inserted = await writer.query<{ id: string }>(
        `INSERT INTO orders.outbox (event_id, subject, body, correlation_id)
         VALUES ($1, 'order.created.v1', '{}', 'c') RETURNING id`,
        [eventId],
      );
      expect(Number(inserted.rows[0]!.id)).toBeGreaterThan(0);
      await writer.query('UPDATE orders.outbox SET published_at = now() WHERE event_id = $1', [
        eventId,
      ]);
      const read = await writer.query('SELECT 1 FROM orders.orders LIMIT 1');
      expect(read.rowCount).toBe(0);
      await writer.query('DELETE FROM orders.outbox WHERE event_id = $1', [eventId]);
    } finally {
      await writer.end();
    }
  });

  it('refuses order_app any DDL in its own schema', async () => {
    const client = await connectAs('order');
    try {
      expect(await outcome(client, 'CREATE TABLE orders.intruder (id int)')).toBe(
        PERMISSION_DENIED,
      );
      expect(await outcome(client, 'ALTER TABLE orders.orders ADD COLUMN x int')).toBe(
        PERMISSION_DENIED,
      );
      expect(await outcome(client, 'DROP TABLE orders.orders')).toBe(PERMISSION_DENIED);
      expect(await outcome(client, 'TRUNCATE orders.outbox')).toBe(PERMISSION_DENIED);
    } finally {
      await client.end();
    }
  });

  it('refuses order_app reading or writing the payments and inventory tables', async () => {
    const client = await connectAs('order');
    try {
      for (const sql of [
        'SELECT * FROM payments.payments',
        `UPDATE payments.payments SET status = 'SUCCEEDED'`,
        'SELECT * FROM inventory.products',
        `INSERT INTO inventory.outbox (event_id, subject, body, correlation_id)
         VALUES ('00000000-0000-4000-8000-000000000002', 'inventory.reserved.v1', '{}', 'c')`,
        'DELETE FROM inventory.reservations',
      ]) {
        expect([sql, await outcome(client, sql)]).toEqual([sql, PERMISSION_DENIED]);
      }
    } finally {
      await client.end();
    }
  });

  it.each(Object.keys(APPS))('refuses %s_app the outbox of every other app', async (app) => {
    const client = await connectAs(app);
    try {
      for (const [other, persistence] of Object.entries(APPS)) {
        const sql = `SELECT * FROM "${persistence.schema}".outbox`;
        expect([other, await outcome(client, sql)]).toEqual([
          other,
          other === app ? 'ok' : PERMISSION_DENIED,
        ]);
      }
    } finally {
      await client.end();
    }
  });

  it('lets saga_operator (the CLI) read the sagas and write every audit trail, and nothing else', async () => {
    const client = new Client({ connectionString: TEST_OPERATOR_URL });
    await client.connect();
    try {
      const [role] = (
        await client.query(
          'SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user',
        )
      ).rows;
      expect(role).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false });
      for (const sql of ['SELECT * FROM orders.sagas', 'SELECT * FROM orders.saga_steps'])
        expect([sql, await outcome(client, sql)]).toEqual([sql, 'ok']);
      for (const { schema } of Object.values(APPS)) {
        const sql = `INSERT INTO "${schema}".audit_log (actor, action, result) VALUES ('ops', 'cli.test', 'success')`;
        expect([sql, await outcome(client, sql)]).toEqual([sql, 'ok']);
      }
      for (const sql of [
        'SELECT * FROM orders.orders',
        'SELECT * FROM orders.outbox',
        `UPDATE orders.sagas SET state = 'COMPLETED'`,
        'DELETE FROM orders.saga_steps',
        `UPDATE inventory.audit_log SET actor = 'someone else'`,
        'DELETE FROM payments.audit_log',
        'SELECT * FROM payments.payments',
        'CREATE TABLE orders.intruder (id int)',
      ])
        expect([sql, await outcome(client, sql)]).toEqual([sql, PERMISSION_DENIED]);
    } finally {
      await client.end();
    }
  });

  it('lets saga_console (the console) add records to every audit trail, and do nothing else', async () => {
    const client = new Client({ connectionString: await consoleDatabaseUrl() });
    await client.connect();
    try {
      const [role] = (
        await client.query(
          'SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user',
        )
      ).rows;
      expect(role).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false });
      for (const { schema } of Object.values(APPS)) {
        const sql = `INSERT INTO "${schema}".audit_log (actor, action, result) VALUES ('ops', 'console.test', 'success')`;
        expect([sql, await outcome(client, sql)]).toEqual([sql, 'ok']);
      }
      // Sagas come through the order app's API: it reads nothing, not even the records it wrote.
      for (const sql of [
        'SELECT * FROM orders.audit_log',
        'SELECT * FROM orders.sagas',
        'SELECT * FROM orders.orders',
        `UPDATE inventory.audit_log SET actor = 'someone else'`,
        'DELETE FROM payments.audit_log',
        'SELECT * FROM payments.payments',
        `INSERT INTO orders.outbox (event_id, subject, body, correlation_id)
         VALUES ('00000000-0000-4000-8000-000000000003', 'order.created.v1', '{}', 'c')`,
        'CREATE TABLE orders.intruder (id int)',
      ])
        expect([sql, await outcome(client, sql)]).toEqual([sql, PERMISSION_DENIED]);
    } finally {
      await client.end();
    }
  });

  describe('at boot in production', () => {
    const boot = (url: string, migrationUrl?: string) =>
      bootAppDataSource(appDataSourceOptions(url, APPS.order!), { migrationUrl, production: true });

    it('serves as the app role on a migrated schema without a migration URL', async () => {
      const dataSource = await boot(urls.order!);
      const [row] = await dataSource.query<{ name: string }[]>('SELECT current_user AS name');
      await dataSource.destroy();
      expect(row?.name).toBe('order_app');
    });

    it('refuses a superuser connection in one line', async () => {
      await expect(boot(TEST_DATABASE_URL)).rejects.toThrow(
        new DatabaseRefusal(
          'DATABASE_URL connects as the superuser "postgres": give the app its own role in production',
        ),
      );
    });

    it('refuses a schema with pending migrations when it may not migrate', async () => {
      await freshSchema('orders');
      const migrations = appDataSourceOptions('', APPS.order!).migrations.length;
      await expect(boot(urls.order!)).rejects.toThrow(
        new DatabaseRefusal(
          `schema "orders" has ${migrations} pending migration(s): run the app with --setup-only and DATABASE_MIGRATION_URL first`,
        ),
      );
      // With the owner's URL it migrates, then serves as its role.
      const dataSource = await boot(urls.order!, TEST_OWNER_URL);
      await dataSource.destroy();
    });
  });
});
