import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { TraceCarrier } from '@lib/observability';
import { BIGINT_AS_NUMBER } from '@lib/persistence';
import { PaymentStatus } from './payment.state';

@Entity({ name: 'payments' })
export class Payment {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId: string;
  @Column({ type: 'text' }) status: PaymentStatus;
  @Column({ name: 'amount_minor', type: 'bigint', transformer: BIGINT_AS_NUMBER })
  amountMinor: number;
  /** Null on a tombstone: order.cancelled does not carry the currency. */
  @Column({ type: 'text', nullable: true }) currency: string | null;
  @Column({ name: 'payment_intent_id', type: 'text', nullable: true })
  paymentIntentId: string | null;
  /** For the storefront only (GET /payments/:orderId): never logged, never in an event. */
  @Column({ name: 'client_secret', type: 'text', nullable: true }) clientSecret: string | null;
  @Column({ name: 'failure_reason', type: 'text', nullable: true }) failureReason: string | null;
  @Column({ name: 'failure_code', type: 'text', nullable: true }) failureCode: string | null;
  @Column({ name: 'decline_code', type: 'text', nullable: true }) declineCode: string | null;
  /** The order's conversation, for the events a webhook causes (no event is their cause). */
  @Column({ name: 'correlation_id', type: 'text' }) correlationId: string;
  @Column({ name: 'saga_id', type: 'text', nullable: true }) sagaId: string | null;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  /**
   * The `sub` of the customer who placed the order, the only customer who may read the payment.
   * Null when unknown (requested before the saga sent it, or a tombstone): operators only.
   */
  @Column({ name: 'customer_id', type: 'text', nullable: true }) customerId: string | null;
  /**
   * When `order.cancelled` reached payment: its money must go back and its intent be cancelled,
   * whatever Stripe reports later (PaymentReconciler). Null while the order is not known cancelled.
   */
  @Column({ name: 'order_cancelled_at', type: 'timestamptz', nullable: true })
  orderCancelledAt: Date | null;
  /** The trace the payment was requested in (W3C headers), for the PaymentIntent's metadata. */
  @Column({ name: 'trace_context', type: 'jsonb', nullable: true })
  traceContext: TraceCarrier | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
