import {
  Column,
  CreateDateColumn,
  Entity,
  OneToMany,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ReleaseReason } from '@lib/contracts';
import { TraceCarrier } from '@lib/observability';
import { BIGINT_AS_NUMBER } from '@lib/persistence';
import { ReservationStatus } from './reservation';
import { ReservationLine } from './reservation-line.entity';

@Entity({ name: 'reservations' })
export class Reservation {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId: string;
  @Column({ type: 'text' }) status: ReservationStatus;
  /** Null on a tombstone: order.cancelled does not carry the currency. */
  @Column({ type: 'text', nullable: true }) currency: string | null;
  @Column({ name: 'total_minor', type: 'bigint', transformer: BIGINT_AS_NUMBER })
  totalMinor: number;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt: Date | null;
  @Column({ name: 'released_reason', type: 'text', nullable: true })
  releasedReason: ReleaseReason | null;
  /** The conversation of the order, for the events the cleaner publishes with no event as cause. */
  @Column({ name: 'correlation_id', type: 'text' }) correlationId: string;
  @Column({ name: 'saga_id', type: 'text', nullable: true }) sagaId: string | null;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  /** The trace of the order.created it was made for (W3C headers): the cleaner links to it. */
  @Column({ name: 'trace_context', type: 'jsonb', nullable: true })
  traceContext: TraceCarrier | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @OneToMany(() => ReservationLine, (line) => line.reservation) lines: ReservationLine[];
}
