import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BIGINT_AS_NUMBER } from '@lib/persistence';
import { Reservation } from './reservation.entity';

@Entity({ name: 'reservation_lines' })
export class ReservationLine {
  @PrimaryColumn({ name: 'reservation_id', type: 'uuid' }) reservationId: string;
  /** With `sku`, the key of the product the line holds. */
  @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  @PrimaryColumn({ type: 'text' }) sku: string;
  @Column({ type: 'integer' }) quantity: number;
  /** The catalogue price when the stock was reserved. */
  @Column({ name: 'unit_price_minor', type: 'bigint', transformer: BIGINT_AS_NUMBER })
  unitPriceMinor: number;
  @ManyToOne(() => Reservation, (reservation) => reservation.lines)
  @JoinColumn({ name: 'reservation_id' })
  reservation: Reservation;
}
