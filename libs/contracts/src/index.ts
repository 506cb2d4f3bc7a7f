export * from './compiled-validation';
export * from './currencies';
export * from './envelope';
export * from './event-validation';
export * from './streams';
export * from './event-catalog';
export * from './subscriptions';
export * from './events';
