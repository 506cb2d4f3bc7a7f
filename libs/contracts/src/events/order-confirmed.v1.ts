import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsCurrency, IsMinorUnits } from './fields';

/** Paid: inventory commits the reservation. */
export class OrderConfirmedV1Payload {
  @IsUUID() orderId: string;
  @IsMinorUnits() amountMinor: number;
  @IsCurrency() currency: string;
}

export const OrderConfirmedV1 = defineEvent('order.confirmed', 1, OrderConfirmedV1Payload);
