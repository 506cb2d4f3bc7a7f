export * from './operator-api.client';
export * from './saga-operations';
