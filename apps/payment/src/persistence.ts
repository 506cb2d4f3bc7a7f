import { APP_SCHEMAS, AppPersistence } from '@lib/platform';
import { PaymentTables1764100000000 } from './migrations/1764100000000-payment-tables';
import { PaymentOwners1764900000000 } from './migrations/1764900000000-payment-owners';
import { WebhookRejections1765000000000 } from './migrations/1765000000000-webhook-rejections';
import { PaymentTraceContext1765200000000 } from './migrations/1765200000000-payment-trace-context';
import { PaymentOrderCancelled1765400000000 } from './migrations/1765400000000-payment-order-cancelled';
import { Payment } from './payments/payment.entity';
import { StripeEventRecord } from './webhooks/stripe-event.entity';

/** The payment app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const paymentPersistence: AppPersistence = {
  schema: APP_SCHEMAS.payment,
  role: 'payment_app',
  entities: [Payment, StripeEventRecord],
  migrations: [
    PaymentTables1764100000000,
    PaymentOwners1764900000000,
    WebhookRejections1765000000000,
    PaymentTraceContext1765200000000,
    PaymentOrderCancelled1765400000000,
  ],
};
