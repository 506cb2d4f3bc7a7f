import { IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';

/** The PaymentIntent was cancelled before any money moved. */
export class PaymentCancelledV1Payload {
  @IsUUID() orderId: string;
  @IsUUID() paymentId: string;
  @MaxLength(255) @IsString() paymentIntentId: string;
}

export const PaymentCancelledV1 = defineEvent('payment.cancelled', 1, PaymentCancelledV1Payload);
