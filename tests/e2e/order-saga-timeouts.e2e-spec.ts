import { SagaSystem } from '../harness/saga-system';
import { eventually } from '../harness/wait';

describe('OrderSaga when the payment deadline passes', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({
      order: { SAGA_PAYMENT_TIMEOUT_MS: '2000', SAGA_DEADLINE_SCAN_MS: '200' },
      payment: () => 'pending-only',
    });
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('compensates: the stock is released and the order cancelled', async () => {
    await system.putProduct('SLOW-PAY-1', 5);
    const orderId = await system.placeOrder([{ sku: 'SLOW-PAY-1', quantity: 2 }]);
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    const cancelled = await system.untilSaga(orderId, 'CANCELLED');
    expect(cancelled.saga.reason).toBe('payment-timeout');
    expect(cancelled.saga.steps.slice(-2)).toMatchObject([
      { from: 'PAYMENT_PENDING', to: 'COMPENSATING', trigger: 'deadline' },
      { from: 'COMPENSATING', to: 'CANCELLED', trigger: 'inventory.released.v1' },
    ]);
    expect(await system.product('SLOW-PAY-1')).toMatchObject({ available: 5, reserved: 0 });
    expect(await system.events('ORDERS', orderId, 'order.cancelled.v1')).toHaveLength(1);
  });
});

describe('OrderSaga when the reservation expires first', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({
      inventory: { RESERVATION_TTL_MS: '1500', RESERVATION_CLEANER_INTERVAL_MS: '250' },
      payment: () => 'pending-only',
    });
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('cancels the order once the cleaner has returned the stock', async () => {
    await system.putProduct('EXPIRE-1', 3);
    const orderId = await system.placeOrder([{ sku: 'EXPIRE-1', quantity: 3 }]);
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    const cancelled = await system.untilSaga(orderId, 'CANCELLED');
    expect(cancelled.saga.reason).toBe('reservation-expired');
    expect(await system.reservations(orderId)).toMatchObject([{ status: 'EXPIRED' }]);
    await eventually(async () => (await system.product('EXPIRE-1')).available === 3);
    expect(await system.product('EXPIRE-1')).toMatchObject({ reserved: 0, committed: 0 });
  });
});
