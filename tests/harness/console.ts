import { AppProcess, startAppProcess } from './app-process';
import { consoleDatabaseUrl } from './database';
import { SagaSystem } from './saga-system';

/**
 * The console as its own process in front of a running system: the order, inventory and (when it
 * runs) payment apps' APIs, its own NATS user on the system's server and its own Postgres role.
 */
export async function startConsole(
  system: SagaSystem,
  overrides: Record<string, string> = {},
): Promise<AppProcess> {
  return startAppProcess('console', {
    ...system.natsEnv('console'),
    DATABASE_URL: await consoleDatabaseUrl(),
    ORDER_API_URL: system.order.url,
    INVENTORY_API_URL: system.inventory.url,
    // Without the payment app, the detail page says it does not answer.
    PAYMENT_API_URL: system.payment?.url ?? 'http://127.0.0.1:9',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...overrides,
  });
}
