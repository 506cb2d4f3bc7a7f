import { AppPersistence } from '@lib/platform';

/** The trading app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const tradingPersistence: AppPersistence = {
  schema: 'trading',
  entities: [],
  migrations: [],
};
