import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsReason } from './fields';

/** A compensation could not complete: an operator has to look at this order. */
export class OrderFailedV1Payload {
  @IsUUID() orderId: string;
  @IsReason() reason: string;
}

export const OrderFailedV1 = defineEvent('order.failed', 1, OrderFailedV1Payload);
