import { AppPersistence } from '@lib/platform';

/** The order app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const orderPersistence: AppPersistence = {
  schema: 'orders',
  entities: [],
  migrations: [],
};
