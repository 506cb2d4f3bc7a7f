import { EventDefinition } from './envelope';
import { InventoryCommittedV1 } from './events/inventory-committed.v1';
import { InventoryLowStockV1 } from './events/inventory-low-stock.v1';
import { InventoryOutOfStockV1 } from './events/inventory-out-of-stock.v1';
import { InventoryProductPricedV1 } from './events/inventory-product-priced.v1';
import { InventoryReleasedV1 } from './events/inventory-released.v1';
import { InventoryReservedV1 } from './events/inventory-reserved.v1';
import { OrderCancelledV1 } from './events/order-cancelled.v1';
import { OrderConfirmedV1 } from './events/order-confirmed.v1';
import { OrderCreatedV1 } from './events/order-created.v1';
import { OrderFailedV1 } from './events/order-failed.v1';
import { OrderPaymentRequestedV1 } from './events/order-payment-requested.v1';
import { OrderResolvedV1 } from './events/order-resolved.v1';
import { PaymentCancelledV1 } from './events/payment-cancelled.v1';
import { PaymentFailedV1 } from './events/payment-failed.v1';
import { PaymentPendingV1 } from './events/payment-pending.v1';
import { PaymentRefundedV1 } from './events/payment-refunded.v1';
import { PaymentSucceededV1 } from './events/payment-succeeded.v1';
import { TradingOrderFilledV1 } from './events/trading-order-filled.v1';
import { TradingOrderRejectedV1 } from './events/trading-order-rejected.v1';
import { TradingOrderSubmittedV1 } from './events/trading-order-submitted.v1';
import { TradingStrategyDeployRequestedV1 } from './events/trading-strategy-deploy-requested.v1';
import { TradingStrategyDeployedV1 } from './events/trading-strategy-deployed.v1';
import { TradingStrategyStopRequestedV1 } from './events/trading-strategy-stop-requested.v1';
import { TradingStrategyStoppedV1 } from './events/trading-strategy-stopped.v1';

/** Every published event version. A version in here is frozen: see `fixtures/` and its spec. */
export const EVENT_CATALOG: readonly EventDefinition[] = [
  OrderCreatedV1,
  OrderPaymentRequestedV1,
  OrderConfirmedV1,
  OrderCancelledV1,
  OrderFailedV1,
  OrderResolvedV1,
  InventoryReservedV1,
  InventoryOutOfStockV1,
  InventoryReleasedV1,
  InventoryCommittedV1,
  InventoryLowStockV1,
  InventoryProductPricedV1,
  PaymentPendingV1,
  PaymentSucceededV1,
  PaymentFailedV1,
  PaymentCancelledV1,
  PaymentRefundedV1,
  TradingStrategyDeployRequestedV1,
  TradingStrategyStopRequestedV1,
  TradingStrategyDeployedV1,
  TradingStrategyStoppedV1,
  TradingOrderSubmittedV1,
  TradingOrderFilledV1,
  TradingOrderRejectedV1,
];

const BY_SUBJECT = new Map(EVENT_CATALOG.map((definition) => [definition.subject, definition]));

export function eventForSubject(subject: string): EventDefinition | undefined {
  return BY_SUBJECT.get(subject);
}
