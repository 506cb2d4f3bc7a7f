import { AppPersistence } from '@lib/platform';

/** The payment app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const paymentPersistence: AppPersistence = {
  schema: 'payments',
  entities: [],
  migrations: [],
};
