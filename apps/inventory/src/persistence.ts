import { AppPersistence } from '@lib/platform';

/** The inventory app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const inventoryPersistence: AppPersistence = {
  schema: 'inventory',
  entities: [],
  migrations: [],
};
