import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsReason } from './fields';

/** The money will not come: declined card, or the intent could not be created. */
export class PaymentFailedV1Payload {
  @IsUUID() orderId: string;
  @IsOptional() @IsUUID() paymentId?: string;
  @IsOptional() @MaxLength(255) @IsString() paymentIntentId?: string;
  @IsReason() reason: string;
  /** Stripe's error code, e.g. `card_declined`. */
  @IsOptional() @MaxLength(100) @IsString() code?: string;
  /** Stripe's decline code, e.g. `insufficient_funds`. */
  @IsOptional() @MaxLength(100) @IsString() declineCode?: string;
}

export const PaymentFailedV1 = defineEvent('payment.failed', 1, PaymentFailedV1Payload);
