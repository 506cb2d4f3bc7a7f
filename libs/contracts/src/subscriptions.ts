/**
 * Which subjects each app consumes: one durable consumer per app and subject. The transport
 * refuses a handler that is not declared here, and `npm run nats:setup` creates them all.
 */
export const SUBSCRIPTIONS: Readonly<Record<string, readonly string[]>> = {
  order: [],
  payment: [],
  inventory: [],
  trading: [],
};
