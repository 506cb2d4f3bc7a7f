import 'reflect-metadata';
import { loadConfig, BaseConfig, appDataSourceOptions, AppPersistence } from '@lib/platform';
import { openAppDataSource } from '@lib/persistence';
import { inventoryPersistence } from '../../apps/inventory/src/persistence';
import { orderPersistence } from '../../apps/order/src/persistence';
import { paymentPersistence } from '../../apps/payment/src/persistence';
import { tradingPersistence } from '../../apps/trading/src/persistence';

const APPS: Record<string, AppPersistence> = {
  order: orderPersistence,
  payment: paymentPersistence,
  inventory: inventoryPersistence,
  trading: tradingPersistence,
};

/** `npm run migrate [-- app...]`: applies pending migrations of every app, or of the named ones. */
async function main(): Promise<void> {
  const config = loadConfig(BaseConfig);
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
      appDataSourceOptions(config.DATABASE_URL, persistence),
    );
    await dataSource.destroy();
    process.stdout.write(`${name}: schema "${persistence.schema}" is up to date\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
