import { Column, Entity, PrimaryColumn, VersionColumn } from 'typeorm';
import { TraceCarrier } from '@lib/observability';
import { BIGINT_AS_NUMBER } from '@lib/persistence';
import { SagaState } from './order-saga.state';

/** The OrderSaga's persisted state. `version` settles racing replies (optimistic locking). */
@Entity({ name: 'sagas' })
export class Saga {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'order_id', type: 'uuid', unique: true }) orderId: string;
  @Column({ type: 'text' }) state: SagaState;
  @VersionColumn() version: number;
  /** When the current step times out; null in a final state or while nothing is awaited. */
  @Column({ name: 'deadline_at', type: 'timestamptz', nullable: true }) deadlineAt: Date | null;
  @Column({ name: 'reservation_id', type: 'uuid', nullable: true }) reservationId: string | null;
  @Column({ name: 'amount_minor', type: 'bigint', nullable: true, transformer: BIGINT_AS_NUMBER })
  amountMinor: number | null;
  @Column({ type: 'text' }) currency: string;
  /** The PaymentIntent the saga believes: from `payment.pending`, or the first `payment.succeeded`. */
  @Column({ name: 'payment_intent_id', type: 'text', nullable: true })
  paymentIntentId: string | null;
  @Column({ name: 'correlation_id', type: 'text' }) correlationId: string;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  /** The order's customer: its payment request names it, and a customer's cancel is scoped by it. */
  @Column({ name: 'customer_id', type: 'text' }) customerId: string;
  /** Why the order was cancelled or failed. */
  @Column({ type: 'text', nullable: true }) reason: string | null;
  /**
   * The trace `POST /orders` started (W3C headers), when tracing is on: deadlines link to it. The
   * hot path's queries leave it out.
   */
  @Column({ name: 'trace_context', type: 'jsonb', nullable: true })
  traceContext?: TraceCarrier | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
