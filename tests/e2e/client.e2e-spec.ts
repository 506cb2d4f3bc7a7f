import {
  ApiError,
  inventoryClient,
  ok,
  orderClient,
  OrderView,
  SagaState,
  TradingSchema,
  tradingClient,
  waitForOrder,
} from '@lib/client';
import { SagaSystem } from '../harness/saga-system';
import { tokenFor } from '../harness/tokens';
import { eventually } from '../harness/wait';
import { strategyBody, TradingSystem } from '../harness/trading-system';

/**
 * The typed client (libs/client, generated from docs/api) against the running apps, as a storefront
 * and a trading desk would use it. `npm run typecheck` checks this file too: the `@ts-expect-error`
 * cases fail it when the client loses its types.
 */
describe('the typed client', () => {
  describe('orders', () => {
    let system: SagaSystem;

    beforeAll(async () => {
      system = await SagaSystem.start({ payment: () => 'pending-only' });
    }, 90_000);

    afterAll(async () => {
      await system?.stop();
    });

    const shopper = () =>
      orderClient({
        baseUrl: system.order.url,
        token: () => tokenFor('sdk-shopper', ['customer']),
      });

    it('places, reads and cancels an order', async () => {
      await system.putProduct('SDK-TEE', 5, 2500);
      const order = shopper();
      const placed = await ok(
        order.POST('/orders', {
          body: { items: [{ sku: 'SDK-TEE', quantity: 2 }], currency: 'eur' },
        }),
      );
      expect(placed).toEqual({
        orderId: expect.any(String),
        sagaId: expect.any(String),
        status: 'PENDING',
      });

      const pending = await waitForOrder(order, placed.orderId, {
        until: (view) => view.saga.state === 'PAYMENT_PENDING',
        intervalMs: 100,
      });
      expect(pending).toMatchObject({
        orderId: placed.orderId,
        customerId: 'sdk-shopper',
        currency: 'EUR',
        totalMinor: 5000,
        lines: [{ sku: 'SDK-TEE', quantity: 2, unitPriceMinor: 2500 }],
      });

      const cancelled = await ok(
        order.POST('/orders/{id}/cancel', { params: { path: { id: placed.orderId } } }),
      );
      expect(cancelled).toMatchObject({ orderId: placed.orderId, sagaState: 'COMPENSATING' });
      const ended: OrderView = await waitForOrder(order, placed.orderId, { intervalMs: 100 });
      const state: SagaState = ended.saga.state;
      expect(state).toBe('CANCELLED');
      expect(ended.saga.steps.map((step) => step.to)).toEqual([
        'STARTED',
        'STOCK_RESERVED',
        'PAYMENT_PENDING',
        'COMPENSATING',
        'CANCELLED',
      ]);
      expect(await system.product('SDK-TEE')).toMatchObject({ available: 5, reserved: 0 });
    });

    it('answers a retried write with its first answer: one order per Idempotency-Key', async () => {
      const order = shopper();
      const body = { items: [{ sku: 'SDK-TEE', quantity: 1 }] };
      const headers = { 'Idempotency-Key': 'sdk-order-1' };
      const first = await ok(order.POST('/orders', { body, params: { header: headers } }));
      const again = await ok(order.POST('/orders', { body, params: { header: headers } }));
      expect(again).toEqual(first);
    });

    it("reports the app's error with its code", async () => {
      await system.putProduct('SDK-EUR', 5, 900);
      const order = shopper();
      // The order app learns the product's currency from inventory's announcement, soon after.
      const refused = await eventually(() =>
        ok(
          order.POST('/orders', {
            body: { items: [{ sku: 'SDK-EUR', quantity: 1 }], currency: 'USD' },
          }),
        ).then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({
        status: 400,
        code: 'ORDER.CURRENCY_NOT_SUPPORTED',
        message: expect.stringContaining('SDK-EUR (EUR)'),
      });
      const { error, response } = await order.GET('/orders/{id}', {
        params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
      });
      expect(response.status).toBe(404);
      expect(error).toMatchObject({ statusCode: 404, code: 'ORDER.NOT_FOUND' });
      const anonymous = inventoryClient({ baseUrl: system.inventory.url });
      const denied = await anonymous.GET('/inventory/products/{sku}', {
        params: { path: { sku: 'SDK-TEE' } },
      });
      expect(denied.response.status).toBe(401);
      expect(denied.error).toMatchObject({ code: 'AUTH.UNAUTHENTICATED' });
    });
  });

  describe('strategies', () => {
    let trading: TradingSystem;

    beforeAll(async () => {
      trading = await TradingSystem.start();
    }, 90_000);

    afterAll(async () => {
      await trading?.stop();
    });

    it('creates, deploys, watches and stops a strategy', async () => {
      const desk = tradingClient({
        baseUrl: trading.url,
        token: () => tokenFor('sdk-trader', ['trader']),
      });
      const created: TradingSchema<'StrategyView'> = await ok(
        desk.POST('/v1/trading/strategies', { body: strategyBody({ name: 'SDK grid' }) }),
      );
      expect(created).toMatchObject({ name: 'SDK grid', state: 'Idle', createdBy: 'sdk-trader' });
      const id = created.strategyId;
      const deploying = await ok(
        desk.POST('/v1/trading/strategies/{id}/deploy', { params: { path: { id } } }),
      );
      expect(deploying.pendingCommand).toBe('deploy');
      await trading.until(id, (s) => s.state === 'Live' && s.recentOrders.length > 0, 'trading');
      const live = await ok(desk.GET('/v1/trading/strategies/{id}', { params: { path: { id } } }));
      expect(live.recentOrders[0]).toMatchObject({ side: expect.stringMatching(/^(buy|sell)$/) });
      await ok(desk.POST('/v1/trading/strategies/{id}/stop', { params: { path: { id } } }));
      const stopped = await trading.until(id, (s) => s.state === 'Stopped', 'stopped');
      expect(stopped.pendingCommand).toBeNull();
      const listed = await ok(desk.GET('/v1/trading/strategies'));
      expect(listed.map((s) => s.strategyId)).toContain(id);
    });
  });

  it('keeps the types of the documents (npm run typecheck fails otherwise)', () => {
    expect(typeof typeChecks).toBe('function');
  });
});

/** Never run: what the compiler must refuse, each line a mistake a typed client catches. */
function typeChecks(): void {
  const order = orderClient({ baseUrl: 'http://127.0.0.1:1' });
  const desk = tradingClient({ baseUrl: 'http://127.0.0.1:1' });
  // @ts-expect-error a quantity is a number
  void order.POST('/orders', { body: { items: [{ sku: 'A', quantity: '1' }] } });
  // @ts-expect-error an order needs its lines
  void order.POST('/orders', { body: { currency: 'EUR' } });
  // @ts-expect-error the order id is a path parameter the route needs
  void order.GET('/orders/{id}', {});
  // @ts-expect-error no such route
  void order.GET('/orders');
  // @ts-expect-error a strategy has a kind
  void desk.POST('/v1/trading/strategies', { body: { name: 'n', symbol: 'BTC-USD', params: {} } });
  void (async () => {
    const { data } = await order.GET('/orders/{id}', { params: { path: { id: 'x' } } });
    // @ts-expect-error a saga state is one of the table's
    const state: 'SHIPPED' = data!.saga.state;
    void state;
  })();
}
