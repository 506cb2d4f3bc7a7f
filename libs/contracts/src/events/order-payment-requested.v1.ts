import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits } from './fields';

/** Stock is reserved: the saga asks payment to collect the reserved total. */
export class OrderPaymentRequestedV1Payload {
  @IsUUID() orderId: string;
  @IsMinorUnits() amountMinor: number;
  @IsCurrency() currency: string;
  /**
   * The customer who placed the order (optional, added in place: v1 stays compatible), so payment
   * shows the payment only to that customer. Absent in requests published before it existed.
   */
  @IsOptional() @MaxLength(100) @IsString() customerId?: string;
}

export const OrderPaymentRequestedV1 = defineEvent(
  'order.payment-requested',
  1,
  OrderPaymentRequestedV1Payload,
);
