import { DataSource, EntitySchema } from 'typeorm';
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
}

export function createAppDataSource(options: AppDataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: options.poolSize ?? 10 },
  });
}

/**
 * Creates database and schema if needed, connects, and applies pending migrations. An advisory
 * lock per schema serialises instances booting together, so each migration runs once.
 */
export async function openAppDataSource(options: AppDataSourceOptions): Promise<DataSource> {
  await ensureDatabaseAndSchema(options.url, options.schema);
  const dataSource = createAppDataSource(options);
  await dataSource.initialize();
  try {
    await runMigrations(dataSource, options.schema);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

export async function runMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`]);
    await runner.release();
  }
}
