import * as restate from '@restatedev/restate-sdk';
import { KeepAliveFetch } from '../../tests/harness/keep-alive-fetch';
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
 * The order saga on Restate, in one process: the workflow's service endpoint (HTTP/2, called by
 * restate-server) and POST /orders, which hands the saga to restate-server's ingress with `/send`
 * (answered once Restate has logged the invocation). Each step is a journaled ctx.run around its
 * Postgres transaction. DATABASE_URL holds the orders; PORT is the HTTP port, SDK_PORT the
 * endpoint's, INGRESS_URL restate-server's ingress, INGRESS_CONNECTIONS how many connections to it.
 */
const pool = orderPool(process.env.DATABASE_URL!);
// As many connections to the ingress as the load has to POST /orders.
const ingress = new KeepAliveFetch(Number(process.env.INGRESS_CONNECTIONS));

const orderSaga = restate.workflow({
  name: 'OrderSaga',
  handlers: {
    run: async (
      ctx: restate.WorkflowContext,
      line: Omit<OrderLine, 'orderId'>,
    ): Promise<'COMPLETED' | 'CANCELLED'> => {
      const order = { ...line, orderId: ctx.key };
      await ctx.run('createOrder', () => createOrder(pool, order));
      if (!(await ctx.run('reserveStock', () => reserveStock(pool, order)))) {
        await ctx.run('cancelOrder', () => cancelOrder(pool, order.orderId));
        return 'CANCELLED';
      }
      await ctx.run('pay', () => pay(order.orderId));
      await ctx.run('confirmOrder', () => confirmOrder(pool, order.orderId));
      return 'COMPLETED';
    },
  },
});

async function main(): Promise<void> {
  await restate.endpoint().bind(orderSaga).listen(Number(process.env.SDK_PORT));
  await serveOrders(Number(process.env.PORT), async ({ orderId, ...line }) => {
    // The order id is the workflow key: Restate runs one workflow per key.
    const { status, text } = await ingress.postJson(
      `${process.env.INGRESS_URL}/OrderSaga/${orderId}/run/send`,
      line,
    );
    if (status < 200 || status > 299) throw new Error(`ingress answered ${status}: ${text}`);
  });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
