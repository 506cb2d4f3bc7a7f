export * from './after-commit';
export * from './app-roles';
export * from './connection-errors';
export * from './data-source';
export * from './database-setup';
export * from './persistence.module';
export * from './schema-helpers';
export * from './raw-sql';
