import { DataSource, EntitySchema, QueryRunner } from 'typeorm';
import { AfterCommitSubscriber } from './after-commit';
import {
  grantAppRole,
  grantConsoleRole,
  grantOperatorRole,
  refusePendingMigrations,
  refuseSuperuser,
} from './app-roles';
import { ensureDatabaseAndSchema } from './database-setup';

export interface AppDataSourceOptions {
  url: string;
  /** The app's own schema: `orders`, `payments`, `inventory` or `trading`. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: (Function | EntitySchema)[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: Function[];
  poolSize?: number;
  /** The role the app connects as (`order_app`): granted DML on the schema after migrating. */
  appRole?: string;
  /** The tables the operators' role reads (OPERATOR_ROLE); it also writes the audit trail. */
  operatorReads?: readonly string[];
}

/** How an app opens its database at boot. */
export interface BootDatabaseOptions {
  /** The owner's URL to migrate with; without one the schema must be migrated already. */
  migrationUrl?: string;
  /**
   * Production: the app creates no database, refuses a superuser connection, and without a
   * migration URL refuses a schema with pending migrations.
   */
  production: boolean;
}

export function createAppDataSource(options: AppDataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    subscribers: [AfterCommitSubscriber],
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: options.poolSize ?? 10 },
  });
}

/**
 * Creates database (unless `createDatabase` is false) and schema if needed, connects, applies
 * pending migrations and grants the app role its privileges. An advisory lock per schema
 * serialises instances booting together, so each migration runs once.
 */
export async function openAppDataSource(
  options: AppDataSourceOptions,
  createDatabase = true,
): Promise<DataSource> {
  await ensureDatabaseAndSchema(options.url, options.schema, createDatabase);
  const dataSource = createAppDataSource(options);
  await dataSource.initialize();
  try {
    await runMigrations(dataSource, options.schema, options.appRole, options.operatorReads);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

/**
 * The app's data source at boot: migrated first with the owner's URL when there is one, then
 * connected with the app's own URL (its role).
 */
export async function bootAppDataSource(
  options: AppDataSourceOptions,
  { migrationUrl, production }: BootDatabaseOptions,
): Promise<DataSource> {
  let dataSource: DataSource;
  if (migrationUrl === options.url) {
    dataSource = await openAppDataSource(options, !production);
  } else {
    if (migrationUrl) {
      await (await openAppDataSource({ ...options, url: migrationUrl }, !production)).destroy();
    }
    dataSource = createAppDataSource(options);
    await dataSource.initialize();
  }
  try {
    if (production) await refuseSuperuser(dataSource);
    if (!migrationUrl) await refusePendingMigrations(dataSource, options.schema);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

export async function runMigrations(
  dataSource: DataSource,
  schema: string,
  appRole?: string,
  operatorReads?: readonly string[],
): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await takeMigrationLock(runner, schema);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (appRole) {
      await grantAppRole(dataSource, schema, appRole);
      await grantOperatorRole(dataSource, schema, operatorReads ?? []);
      await grantConsoleRole(dataSource, schema);
    }
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`]);
    await runner.release();
  }
}

/**
 * Waits for the schema's migration lock by polling, not with a blocking pg_advisory_lock: a
 * session blocked in a statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the
 * instance that holds the lock waits for every older snapshot to end, a deadlock Postgres cannot
 * see (the lock and the index build are on two connections of the other instance).
 */
async function takeMigrationLock(runner: QueryRunner, schema: string): Promise<void> {
  for (;;) {
    const [{ locked }] = (await runner.query(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [`migrations:${schema}`],
    )) as [{ locked: boolean }];
    if (locked) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
