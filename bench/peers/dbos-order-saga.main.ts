import { DBOS } from '@dbos-inc/dbos-sdk';
import { serveOrders } from './order-front';
import {
  cancelOrder,
  confirmOrder,
  createOrder,
  OrderLine,
  orderPool,
  pay,
  reserveStock,
} from './order.store';

/*
 * The order saga on DBOS Transact, in one process: POST /orders starts the workflow (answering once
 * DBOS has recorded it in its system database), and each step's Postgres transaction is a DBOS step
 * whose result DBOS records before the next one runs. DATABASE_URL holds the orders,
 * SYSTEM_DATABASE_URL DBOS's own tables; PORT is the HTTP port.
 */
const pool = orderPool(process.env.DATABASE_URL!);

const createOrderStep = DBOS.registerStep((line: OrderLine) => createOrder(pool, line), {
  name: 'createOrder',
});
const reserveStockStep = DBOS.registerStep((line: OrderLine) => reserveStock(pool, line), {
  name: 'reserveStock',
});
const payStep = DBOS.registerStep((orderId: string) => pay(orderId), { name: 'pay' });
const confirmOrderStep = DBOS.registerStep((orderId: string) => confirmOrder(pool, orderId), {
  name: 'confirmOrder',
});
const cancelOrderStep = DBOS.registerStep((orderId: string) => cancelOrder(pool, orderId), {
  name: 'cancelOrder',
});

const orderSaga = DBOS.registerWorkflow(
  async (line: OrderLine): Promise<'COMPLETED' | 'CANCELLED'> => {
    await createOrderStep(line);
    if (!(await reserveStockStep(line))) {
      await cancelOrderStep(line.orderId);
      return 'CANCELLED';
    }
    await payStep(line.orderId);
    await confirmOrderStep(line.orderId);
    return 'COMPLETED';
  },
  { name: 'orderSaga' },
);

async function main(): Promise<void> {
  DBOS.setConfig({
    name: 'bench-peers',
    systemDatabaseUrl: process.env.SYSTEM_DATABASE_URL!,
    systemDatabasePoolSize: Number(process.env.DATABASE_POOL_SIZE ?? 20),
    logLevel: 'warn',
  });
  await DBOS.launch();
  await serveOrders(Number(process.env.PORT), async (line) => {
    // The order id is the workflow id: a retried POST with the same id would not start a second saga.
    await DBOS.startWorkflow(orderSaga, { workflowID: line.orderId })(line);
  });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
