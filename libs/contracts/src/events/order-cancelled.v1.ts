import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsReason } from './fields';

/** The saga gave up on the order: inventory releases its stock, payment cancels or refunds. */
export class OrderCancelledV1Payload {
  @IsUUID() orderId: string;
  /** Why, e.g. `out-of-stock`, `payment-failed`, `payment-timeout`, `reservation-expired`, `customer`. */
  @IsReason() reason: string;
}

export const OrderCancelledV1 = defineEvent('order.cancelled', 1, OrderCancelledV1Payload);
