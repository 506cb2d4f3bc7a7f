import { PAYMENT_STATUSES, PaymentStatus, paymentTransition } from './payment.state';

describe('payment transitions', () => {
  it.each([
    ['CREATING', 'created', 'PENDING', 'pending'],
    ['CREATING', 'creation-failed', 'FAILED', 'failed'],
    ['PENDING', 'succeeded', 'SUCCEEDED', 'succeeded'],
    ['PENDING', 'failed', 'FAILED', 'failed'],
    ['PENDING', 'cancelled', 'CANCELLED', 'cancelled'],
    ['PENDING', 'authorized', 'AUTHORIZED', 'succeeded'],
    ['AUTHORIZED', 'cancelled', 'CANCELLED', 'cancelled'],
    ['FAILED', 'succeeded', 'SUCCEEDED', 'succeeded'],
    ['SUCCEEDED', 'refunded', 'REFUNDED', 'refunded'],
  ] as const)('%s + %s → %s, announcing payment.%s', (from, trigger, to, announce) => {
    expect(paymentTransition(from, trigger)).toEqual({ to, announce });
  });

  it('captures an authorization without announcing it twice', () => {
    expect(paymentTransition('AUTHORIZED', 'captured')).toEqual({ to: 'SUCCEEDED' });
    expect(paymentTransition('AUTHORIZED', 'succeeded')).toEqual({ to: 'SUCCEEDED' });
  });

  it.each(['CREATING', 'FAILED'] as const)(
    'closes %s quietly when the order is cancelled and Stripe holds no intent',
    (from) => {
      expect(paymentTransition(from, 'abandoned')).toEqual({ to: 'CANCELLED' });
    },
  );

  it.each([
    ['PENDING', 'abandoned'],
    ['SUCCEEDED', 'abandoned'],
    ['SUCCEEDED', 'failed'],
    ['SUCCEEDED', 'cancelled'],
    ['SUCCEEDED', 'succeeded'],
    ['REFUNDED', 'succeeded'],
    ['CANCELLED', 'succeeded'],
    ['CANCELLED', 'failed'],
    ['FAILED', 'failed'],
    ['PENDING', 'created'],
  ] as const)('ignores %s + %s: never backwards, never twice', (from, trigger) => {
    expect(paymentTransition(from, trigger)).toBeUndefined();
  });

  it('ends in CANCELLED and REFUNDED', () => {
    const final: PaymentStatus[] = ['CANCELLED', 'REFUNDED'];
    for (const status of final) {
      for (const trigger of ['succeeded', 'failed', 'cancelled', 'refunded', 'captured'] as const)
        expect(paymentTransition(status, trigger)).toBeUndefined();
    }
    expect(PAYMENT_STATUSES).toHaveLength(7);
  });
});
