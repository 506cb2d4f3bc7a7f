import { IsUUID } from 'class-validator';

/** `GET /inventory/reservations?orderId=`. */
export class ListReservationsRequest {
  @IsUUID(undefined, { message: 'orderId must be a UUID' })
  orderId: string;
}
