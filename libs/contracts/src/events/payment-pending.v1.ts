import { IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits } from './fields';

/** A PaymentIntent exists and waits for the customer. Its client secret never travels in an event. */
export class PaymentPendingV1Payload {
  @IsUUID() orderId: string;
  @IsUUID() paymentId: string;
  @MaxLength(255) @IsString() paymentIntentId: string;
  @IsMinorUnits() amountMinor: number;
  @IsCurrency() currency: string;
}

export const PaymentPendingV1 = defineEvent('payment.pending', 1, PaymentPendingV1Payload);
