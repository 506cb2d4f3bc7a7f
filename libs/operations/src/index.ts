export * from './dead-letters';
export * from './durations';
export * from './operations-audit';
export * from './operations.errors';
export * from './saga-conversation';
export * from './stream-range';
export * from './streams-overview';
