import {
  createEvent,
  EventEnvelope,
  InventoryOutOfStockV1,
  InventoryReservedV1,
  PaymentFailedV1,
  PaymentPendingV1,
  PaymentSucceededV1,
} from '@lib/contracts';
import { checkReply, intentToRecord, SagaRecord } from './order-saga.replies';
import { SagaState } from './order-saga.state';

const ORDER = '8d4c6e0e-3c1f-4c65-9d61-2a3e0d3f6a11';
const TENANT = { tenantId: 't-1' };

function saga(state: SagaState, overrides: Partial<SagaRecord> = {}): SagaRecord {
  return {
    id: 'saga-1',
    orderId: ORDER,
    state,
    version: 3,
    deadlineAt: null,
    reservationId: null,
    amountMinor: 2500,
    currency: 'EUR',
    paymentIntentId: 'pi_1',
    correlationId: ORDER,
    tenantId: 't-1',
    customerId: 'c-1',
    reason: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    orderedLines: [
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 1 },
    ],
    ...overrides,
  };
}

const paid = (overrides: object = {}, origin: object = TENANT): EventEnvelope =>
  createEvent(
    PaymentSucceededV1,
    {
      orderId: ORDER,
      paymentId: '4b0a0f52-5b8e-4f3a-8d0e-1f2a3b4c5d6e',
      paymentIntentId: 'pi_1',
      amountMinor: 2500,
      currency: 'EUR',
      ...overrides,
    },
    origin,
  );

const reserved = (
  lines: { sku: string; quantity: number; unitPriceMinor: number }[],
  total?: number,
) =>
  createEvent(
    InventoryReservedV1,
    {
      orderId: ORDER,
      reservationId: '0e7a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c',
      lines,
      totalMinor: total ?? lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0),
      currency: 'EUR',
      expiresAt: new Date().toISOString(),
    },
    TENANT,
  );

describe('checkReply', () => {
  it('believes a payment of the requested amount, currency and PaymentIntent', () => {
    expect(checkReply(saga('PAYMENT_PENDING'), 'payment-succeeded', paid())).toBeUndefined();
  });

  it.each([
    ['amount', { amountMinor: 1 }],
    ['currency', { currency: 'USD' }],
    ['payment-intent', { paymentIntentId: 'pi_forged' }],
  ])('refuses a payment.succeeded of another %s', (reason, overrides) => {
    expect(checkReply(saga('PAYMENT_PENDING'), 'payment-succeeded', paid(overrides))).toMatchObject(
      { reason },
    );
  });

  it('takes the first PaymentIntent it sees when none is recorded, and records it', () => {
    const unrecorded = saga('STOCK_RESERVED', { paymentIntentId: null });
    const reply = paid({ paymentIntentId: 'pi_new' });
    expect(checkReply(unrecorded, 'payment-succeeded', reply)).toBeUndefined();
    expect(intentToRecord(unrecorded, 'payment-succeeded', reply)).toBe('pi_new');
    expect(intentToRecord(saga('STOCK_RESERVED'), 'payment-succeeded', reply)).toBeUndefined();
  });

  it('refuses a payment.pending of another amount', () => {
    const pending = createEvent(
      PaymentPendingV1,
      {
        orderId: ORDER,
        paymentId: '4b0a0f52-5b8e-4f3a-8d0e-1f2a3b4c5d6e',
        paymentIntentId: 'pi_1',
        amountMinor: 99,
        currency: 'EUR',
      },
      TENANT,
    );
    expect(
      checkReply(saga('STOCK_RESERVED', { paymentIntentId: null }), 'payment-pending', pending),
    ).toMatchObject({ reason: 'amount' });
  });

  it('refuses a payment.failed naming another PaymentIntent than the recorded one', () => {
    const failed = (paymentIntentId?: string) =>
      createEvent(PaymentFailedV1, { orderId: ORDER, paymentIntentId, reason: 'declined' }, TENANT);
    expect(checkReply(saga('PAYMENT_PENDING'), 'payment-failed', failed('pi_2'))).toMatchObject({
      reason: 'payment-intent',
    });
    expect(checkReply(saga('PAYMENT_PENDING'), 'payment-failed', failed())).toBeUndefined();
  });

  it("refuses any reply of another tenant, whatever the saga's state", () => {
    const outOfStock = createEvent(
      InventoryOutOfStockV1,
      { orderId: ORDER, missing: [{ sku: 'A', requested: 2, available: 0 }] },
      { tenantId: 't-2' },
    );
    expect(checkReply(saga('STARTED'), 'out-of-stock', outOfStock)).toMatchObject({
      reason: 'tenant',
    });
    expect(checkReply(saga('COMPLETED'), 'payment-succeeded', paid({}, {}))).toMatchObject({
      reason: 'tenant',
    });
  });

  it('leaves a reply that would not move the saga to be ignored as late', () => {
    expect(
      checkReply(saga('STARTED', { amountMinor: null }), 'payment-succeeded', paid()),
    ).toBeUndefined();
  });

  it('believes a reservation of exactly the ordered lines, in any order', () => {
    const lines = [
      { sku: 'B', quantity: 1, unitPriceMinor: 500 },
      { sku: 'A', quantity: 2, unitPriceMinor: 1000 },
    ];
    expect(checkReply(saga('STARTED'), 'stock-reserved', reserved(lines))).toBeUndefined();
  });

  it.each([
    ['a missing line', [{ sku: 'A', quantity: 2, unitPriceMinor: 1000 }]],
    [
      'another quantity',
      [
        { sku: 'A', quantity: 1, unitPriceMinor: 1000 },
        { sku: 'B', quantity: 1, unitPriceMinor: 500 },
      ],
    ],
    [
      'an extra line',
      [
        { sku: 'A', quantity: 2, unitPriceMinor: 1000 },
        { sku: 'B', quantity: 1, unitPriceMinor: 500 },
        { sku: 'C', quantity: 1, unitPriceMinor: 1 },
      ],
    ],
  ])('refuses a reservation with %s', (_case, lines) => {
    expect(checkReply(saga('STARTED'), 'stock-reserved', reserved(lines))).toMatchObject({
      reason: 'lines',
    });
  });

  it('refuses a reservation whose total is not its lines', () => {
    const lines = [
      { sku: 'A', quantity: 2, unitPriceMinor: 1000 },
      { sku: 'B', quantity: 1, unitPriceMinor: 500 },
    ];
    expect(checkReply(saga('STARTED'), 'stock-reserved', reserved(lines, 1))).toMatchObject({
      reason: 'amount',
    });
  });
});
