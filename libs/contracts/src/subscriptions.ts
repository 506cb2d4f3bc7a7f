/**
 * Which subjects each app consumes: one durable consumer per app and subject. The transport
 * refuses a handler that is not declared here, and `npm run nats:setup` creates them all.
 */
export const SUBSCRIPTIONS: Readonly<Record<string, readonly string[]>> = {
  order: [
    'inventory.reserved.v1',
    'inventory.out-of-stock.v1',
    'inventory.released.v1',
    'payment.pending.v1',
    'payment.succeeded.v1',
    'payment.failed.v1',
    // The catalogue's currencies, for POST /orders to refuse a currency the products are not priced in.
    'inventory.product-priced.v1',
  ],
  payment: ['order.payment-requested.v1', 'order.cancelled.v1', 'order.confirmed.v1'],
  inventory: ['order.created.v1', 'order.cancelled.v1', 'order.confirmed.v1'],
  // Deploy and stop are commands the trading app sends itself, so any instance can carry them out.
  trading: ['trading.strategy.deploy-requested.v1', 'trading.strategy.stop-requested.v1'],
};

/**
 * Compensations: commands that undo a saga's step. Their consumers retry them until they are done
 * (no max_deliver) and alert when one keeps failing, instead of dead-lettering it: a compensation
 * given up leaves stock held, or money taken, for a cancelled order. Only one that can never be
 * handled (invalid, or refused as forged) is dead-lettered.
 */
export const COMPENSATIONS: readonly string[] = ['order.cancelled.v1'];

export function isCompensation(subject: string): boolean {
  return COMPENSATIONS.includes(subject);
}
