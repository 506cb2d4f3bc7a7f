import { IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits } from './fields';

export class PaymentSucceededV1Payload {
  @IsUUID() orderId: string;
  @IsUUID() paymentId: string;
  @MaxLength(255) @IsString() paymentIntentId: string;
  @IsMinorUnits() amountMinor: number;
  @IsCurrency() currency: string;
}

export const PaymentSucceededV1 = defineEvent('payment.succeeded', 1, PaymentSucceededV1Payload);
