import {
  FINAL_STATES,
  isFinal,
  operatorActionsIn,
  ORDER_SAGA,
  orderStatusOf,
  SAGA_STATES,
  SagaState,
  SagaTrigger,
  transitionFor,
} from './order-saga.state';

const TRIGGERS: SagaTrigger[] = [
  'stock-reserved',
  'out-of-stock',
  'stock-released',
  'stock-expired',
  'payment-pending',
  'payment-succeeded',
  'payment-failed',
  'deadline',
  'customer-cancel',
];

/** Follows triggers from STARTED, ignoring the ones the table ignores, like the orchestrator. */
function run(...triggers: SagaTrigger[]): {
  state: SagaState;
  commands: string[];
  reasons: string[];
} {
  let state: SagaState = 'STARTED';
  const commands: string[] = [];
  const reasons: string[] = [];
  for (const trigger of triggers) {
    const transition = transitionFor(state, trigger);
    if (!transition) continue;
    state = transition.path[transition.path.length - 1]!;
    if (transition.command) commands.push(transition.command);
    if (transition.reason) reasons.push(transition.reason);
  }
  return { state, commands, reasons };
}

describe('OrderSaga transition table', () => {
  it('completes: reserve, request payment, get paid, confirm', () => {
    expect(run('stock-reserved', 'payment-pending', 'payment-succeeded')).toEqual({
      state: 'COMPLETED',
      commands: ['request-payment', 'confirm'],
      reasons: [],
    });
  });

  it('accepts the payment before its pending notice, and ignores the late notice', () => {
    expect(run('stock-reserved', 'payment-succeeded', 'payment-pending').state).toBe('COMPLETED');
  });

  it('cancels without ever requesting payment when stock is missing', () => {
    expect(run('out-of-stock')).toEqual({
      state: 'CANCELLED',
      commands: ['cancel'],
      reasons: ['out-of-stock'],
    });
    expect(transitionFor('STARTED', 'out-of-stock')?.path).toEqual(['STOCK_FAILED', 'CANCELLED']);
  });

  it('releases the stock after a declined payment and ends cancelled once inventory confirms', () => {
    const declined = run('stock-reserved', 'payment-pending', 'payment-failed');
    expect(declined.state).toBe('COMPENSATING');
    expect(declined.reasons).toEqual(['payment-failed']);
    expect(transitionFor('PAYMENT_PENDING', 'payment-failed')?.deadline).toBe('compensation');
    expect(run('stock-reserved', 'payment-failed', 'stock-released').state).toBe('CANCELLED');
  });

  it('fails for an operator when the release is never confirmed', () => {
    expect(run('stock-reserved', 'payment-failed', 'deadline')).toEqual({
      state: 'FAILED',
      commands: ['request-payment', 'cancel', 'fail'],
      reasons: ['payment-failed', 'stock release not confirmed in time'],
    });
  });

  it.each([
    ['STARTED', 'stock-timeout', 'CANCELLED'],
    ['STOCK_RESERVED', 'payment-timeout', 'COMPENSATING'],
    ['PAYMENT_PENDING', 'payment-timeout', 'COMPENSATING'],
  ] as const)('compensates when the %s deadline passes (%s)', (state, reason, to) => {
    const transition = transitionFor(state, 'deadline');
    expect(transition).toMatchObject({ command: 'cancel', reason });
    expect(transition?.path.at(-1)).toBe(to);
  });

  it('cancels at once when the reservation expired while waiting for the money', () => {
    expect(run('stock-reserved', 'payment-pending', 'stock-expired')).toMatchObject({
      state: 'CANCELLED',
      reasons: ['reservation-expired'],
    });
  });

  it('lets the customer cancel until the order completes', () => {
    expect(run('customer-cancel').state).toBe('CANCELLED');
    expect(run('stock-reserved', 'customer-cancel').state).toBe('COMPENSATING');
    expect(run('stock-reserved', 'payment-succeeded', 'customer-cancel').state).toBe('COMPLETED');
  });

  it('ignores duplicate and late replies', () => {
    expect(
      run('stock-reserved', 'stock-reserved', 'payment-succeeded', 'payment-failed', 'deadline'),
    ).toEqual({
      state: 'COMPLETED',
      commands: ['request-payment', 'confirm'],
      reasons: [],
    });
    expect(run('out-of-stock', 'stock-reserved', 'payment-succeeded').state).toBe('CANCELLED');
  });

  it.each(FINAL_STATES)('%s moves on no reply, deadline or customer', (state) => {
    for (const trigger of TRIGGERS) {
      const transition = transitionFor(state, trigger);
      if (transition) expect(transition.path).toEqual([state]);
    }
    expect(transitionFor(state, 'payment-failed')).toBeUndefined();
    expect(transitionFor(state, 'stock-released')).toBeUndefined();
    expect(transitionFor(state, 'deadline')).toBeUndefined();
  });

  it.each(['COMPENSATING', 'CANCELLED', 'FAILED', 'RESOLVED'] as const)(
    'sends the compensation again when money moves for an order given up (%s), and stays',
    (state) => {
      expect(transitionFor(state, 'payment-succeeded')).toMatchObject({
        path: [state],
        command: 'cancel',
      });
      expect(transitionFor(state, 'payment-succeeded')?.reason).toBeUndefined();
    },
  );

  it('keeps the compensation deadline when a late payment comes in while compensating', () => {
    expect(transitionFor('COMPENSATING', 'payment-succeeded')?.deadline).toBe('unchanged');
    expect(transitionFor('CANCELLED', 'payment-succeeded')?.deadline).toBeUndefined();
  });

  it('confirms a completed order once: a second payment.succeeded is a duplicate', () => {
    expect(transitionFor('COMPLETED', 'payment-succeeded')).toBeUndefined();
  });

  it('lets operators act where the table says, and nowhere else', () => {
    expect(
      Object.fromEntries(SAGA_STATES.map((state) => [state, operatorActionsIn(state)])),
    ).toEqual({
      STARTED: ['retry', 'cancel'],
      STOCK_RESERVED: ['retry', 'cancel'],
      PAYMENT_PENDING: ['retry', 'cancel'],
      COMPLETED: [],
      STOCK_FAILED: [],
      PAYMENT_FAILED: [],
      COMPENSATING: ['retry'],
      CANCELLED: [],
      FAILED: ['cancel', 'resolve'],
      RESOLVED: [],
    });
  });

  it.each([
    ['STARTED', 'create', 'stock', 'STARTED'],
    ['STOCK_RESERVED', 'request-payment', 'payment', 'STOCK_RESERVED'],
    ['PAYMENT_PENDING', 'request-payment', 'payment', 'STOCK_RESERVED'],
    ['COMPENSATING', 'cancel', 'compensation', 'COMPENSATING'],
  ] as const)(
    'retries %s by sending its awaited command again under a fresh deadline',
    (state, command, deadline, repeats) => {
      expect(transitionFor(state, 'operator-retry')).toEqual({
        path: [state],
        command,
        deadline,
        repeats,
      });
    },
  );

  it('forces compensation as a customer cancel would, and from FAILED too', () => {
    expect(run('operator-cancel')).toEqual({
      state: 'CANCELLED',
      commands: ['cancel'],
      reasons: ['operator'],
    });
    expect(run('stock-reserved', 'payment-pending', 'operator-cancel')).toEqual({
      state: 'COMPENSATING',
      commands: ['request-payment', 'cancel'],
      reasons: ['operator'],
    });
    const failed = run('stock-reserved', 'deadline', 'deadline');
    expect(failed.state).toBe('FAILED');
    expect(
      run('stock-reserved', 'deadline', 'deadline', 'operator-cancel', 'stock-released'),
    ).toEqual({
      state: 'CANCELLED',
      commands: ['request-payment', 'cancel', 'fail', 'cancel'],
      reasons: ['payment-timeout', 'stock release not confirmed in time', 'operator'],
    });
  });

  it('resolves a FAILED saga for good', () => {
    const resolved = run('stock-reserved', 'deadline', 'deadline', 'operator-resolve');
    expect(resolved.state).toBe('RESOLVED');
    expect(resolved.commands.at(-1)).toBe('resolve');
    expect(isFinal('RESOLVED')).toBe(true);
    expect(operatorActionsIn('RESOLVED')).toEqual([]);
    expect(run('operator-resolve').state).toBe('STARTED');
  });

  it('gives every state a saga can rest in a deadline, so no saga waits forever', () => {
    const resting = new Set(
      Object.values(ORDER_SAGA).flatMap((row) =>
        Object.values(row).map((t) => t.path[t.path.length - 1]!),
      ),
    );
    resting.add('STARTED');
    for (const state of resting) {
      if (isFinal(state)) continue;
      expect(transitionFor(state, 'deadline')).toBeDefined();
    }
  });

  it('shows clients a status for every state', () => {
    expect(SAGA_STATES.map(orderStatusOf)).toEqual([
      'PENDING',
      'PENDING',
      'PENDING',
      'CONFIRMED',
      'CANCELLING',
      'CANCELLING',
      'CANCELLING',
      'CANCELLED',
      'FAILED',
      'CANCELLED',
    ]);
  });
});
