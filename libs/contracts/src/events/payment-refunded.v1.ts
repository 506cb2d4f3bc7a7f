import { IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits } from './fields';

/** Money that had moved went back to the customer. */
export class PaymentRefundedV1Payload {
  @IsUUID() orderId: string;
  @IsUUID() paymentId: string;
  @MaxLength(255) @IsString() paymentIntentId: string;
  @IsMinorUnits() amountMinor: number;
  @IsCurrency() currency: string;
}

export const PaymentRefundedV1 = defineEvent('payment.refunded', 1, PaymentRefundedV1Payload);
