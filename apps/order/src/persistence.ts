import { APP_SCHEMAS, AppPersistence } from '@lib/platform';
import { OrderTables1763900000000 } from './migrations/1763900000000-order-tables';
import { OrderTenancy1764900000000 } from './migrations/1764900000000-order-tenancy';
import { SagaPaymentIntent1765000000000 } from './migrations/1765000000000-saga-payment-intent';
import { SagaTraceContext1765200000000 } from './migrations/1765200000000-saga-trace-context';
import { SagaReadModel1765300000000 } from './migrations/1765300000000-saga-read-model';
import { ProductCurrencies1765400000000 } from './migrations/1765400000000-product-currencies';
import { SagaStep } from './order-saga/saga-step.entity';
import { Saga } from './order-saga/saga.entity';
import { OrderLine } from './orders/order-line.entity';
import { ProductCurrency } from './product-currencies/product-currency.entity';
import { Order } from './orders/order.entity';

/** The order app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const orderPersistence: AppPersistence = {
  schema: APP_SCHEMAS.order,
  role: 'order_app',
  // `npm run cli -- saga show` and `sagas stuck`.
  operatorReads: ['sagas', 'saga_steps'],
  entities: [Order, OrderLine, Saga, SagaStep, ProductCurrency],
  migrations: [
    OrderTables1763900000000,
    OrderTenancy1764900000000,
    SagaPaymentIntent1765000000000,
    SagaTraceContext1765200000000,
    SagaReadModel1765300000000,
    ProductCurrencies1765400000000,
  ],
};
