import { query } from '../harness/database';
import { SagaSystem } from '../harness/saga-system';
import { eventually } from '../harness/wait';

/** The order app as production runs it: an HTTP process (ORDER_ROLE=api) and a saga worker. */
describe('OrderSaga with the order app split into api and worker processes', () => {
  let system: SagaSystem;
  /** The one order whose payment never settles, so that its deadline passes. */
  let slowPayer: string | undefined;

  beforeAll(async () => {
    system = await SagaSystem.start({
      splitOrder: true,
      order: { SAGA_PAYMENT_TIMEOUT_MS: '2000', SAGA_DEADLINE_SCAN_MS: '200' },
      payment: (orderId) => (orderId === slowPayer ? 'pending-only' : 'succeed'),
    });
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  const pendingOutboxRows = async () =>
    (
      await query<{ count: number }>(
        `SELECT count(*)::int AS count FROM orders.outbox WHERE published_at IS NULL`,
      )
    )[0]!.count;

  it('takes orders on the api process and completes their sagas on the worker', async () => {
    await system.putProduct('SPLIT-1', 10, 500);
    const orderId = await system.placeOrder([{ sku: 'SPLIT-1', quantity: 2 }]);
    const done = await system.untilSaga(orderId, 'COMPLETED');
    expect(done).toMatchObject({ status: 'CONFIRMED', totalMinor: 1000 });
    expect((await system.product('SPLIT-1')).available).toBe(8);
  });

  it('serves the order routes only on the api process, health and metrics on both', async () => {
    const worker = system.orderWorker!.url;
    expect((await fetch(`${worker}/orders/${crypto.randomUUID()}`)).status).toBe(404);
    for (const url of [worker, system.order.url]) {
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    }
  });

  it('publishes the orders the api process takes while no worker runs, and the next worker completes them', async () => {
    await system.putProduct('SPLIT-2', 10);
    await system.orderWorker!.stop();
    const orderId = await system.placeOrder([{ sku: 'SPLIT-2', quantity: 1 }]);
    // The api process publishes what it commits; the saga waits for a worker to take the reply.
    await eventually(
      async () => (await system.events('ORDERS', orderId, 'order.created.v1')).length === 1,
      { what: 'the api process to publish order.created' },
    );
    expect((await system.getOrder(orderId)).saga.state).toBe('STARTED');

    system.orderWorker = await system.startOrderWorker();
    await system.untilSaga(orderId, 'COMPLETED');
    await eventually(async () => (await pendingOutboxRows()) === 0, {
      what: 'every event to be marked published',
    });
    expect(await system.events('ORDERS', orderId, 'order.created.v1')).toHaveLength(1);
  }, 60_000);

  it('enforces deadlines on the worker', async () => {
    await system.putProduct('SPLIT-3', 5);
    slowPayer = await system.placeOrder([{ sku: 'SPLIT-3', quantity: 2 }]);
    const cancelled = await system.untilSaga(slowPayer, 'CANCELLED');
    expect(cancelled.saga.reason).toBe('payment-timeout');
    expect(await system.product('SPLIT-3')).toMatchObject({ available: 5, reserved: 0 });
  });
});
