import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsReason } from './fields';

/**
 * An operator closed a failed order after undoing by hand what its compensation could not; the
 * operator's note is in the order app's audit trail, not in the stream.
 */
export class OrderResolvedV1Payload {
  @IsUUID() orderId: string;
  /** Why the order had failed. */
  @IsReason() reason: string;
}

export const OrderResolvedV1 = defineEvent('order.resolved', 1, OrderResolvedV1Payload);
