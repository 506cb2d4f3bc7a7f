import { DataSource, EntitySchema } from 'typeorm';
import { AfterCommitSubscriber } from './after-commit';
import { grantAppRole, refusePendingMigrations, refuseSuperuser } from './app-roles';
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
    await runMigrations(dataSource, options.schema, options.appRole);
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
): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (appRole) await grantAppRole(dataSource, schema, appRole);
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`]);
    await runner.release();
  }
}
