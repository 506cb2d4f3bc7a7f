import {
  FINAL_STATES,
  isFinal,
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

  it.each(FINAL_STATES)('%s reacts to nothing', (state) => {
    for (const trigger of TRIGGERS) expect(transitionFor(state, trigger)).toBeUndefined();
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
    ]);
  });
});
