import 'reflect-metadata';
import { loadConfig, BaseConfig, appDataSourceOptions, migrationUrlOf } from '@lib/platform';
import { openAppDataSource } from '@lib/persistence';
import { APPS } from './app-roles';

/**
 * `npm run migrate [-- app...]`: applies pending migrations of every app, or of the named ones, as
 * the schema owner (DATABASE_MIGRATION_URL; DATABASE_URL outside production), and grants each
 * app's role its privileges.
 */
async function main(): Promise<void> {
  const config = loadConfig(BaseConfig);
  const migrationUrl = migrationUrlOf(config);
  if (!migrationUrl) throw new Error('DATABASE_MIGRATION_URL must be set in production');
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !APPS[name]);
  if (unknown.length > 0) {
    throw new Error(
      `unknown app ${unknown.join(', ')}; choose from ${Object.keys(APPS).join(', ')}`,
    );
  }
  for (const name of names.length > 0 ? names : Object.keys(APPS)) {
    const persistence = APPS[name]!;
    const dataSource = await openAppDataSource(
      appDataSourceOptions(migrationUrl, persistence),
      config.NODE_ENV !== 'production',
    );
    await dataSource.destroy();
    process.stdout.write(
      `${name}: schema "${persistence.schema}" is up to date, role ${persistence.role} granted\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
