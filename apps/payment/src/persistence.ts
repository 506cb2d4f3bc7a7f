import { AppPersistence } from '@lib/platform';
import { PaymentTables1764100000000 } from './migrations/1764100000000-payment-tables';
import { Payment } from './payments/payment.entity';
import { StripeEventRecord } from './webhooks/stripe-event.entity';

/** The payment app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const paymentPersistence: AppPersistence = {
  schema: 'payments',
  entities: [Payment, StripeEventRecord],
  migrations: [PaymentTables1764100000000],
};
