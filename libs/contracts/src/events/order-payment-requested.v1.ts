import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits } from './fields';

/** Stock is reserved: the saga asks payment to collect the reserved total. */
export class OrderPaymentRequestedV1Payload {
  @IsUUID() orderId: string;
  @IsMinorUnits() amountMinor: number;
  @IsCurrency() currency: string;
}

export const OrderPaymentRequestedV1 = defineEvent(
  'order.payment-requested',
  1,
  OrderPaymentRequestedV1Payload,
);
