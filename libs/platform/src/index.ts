export * from './base.config';
export * from './health.controller';
export * from './load-config';
export * from './platform.module';
export * from './run-app';
export * from './http-errors';
export * from './config-decorators';
export * from './repeating-task';
