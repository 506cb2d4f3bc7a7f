import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A Stripe event the webhook has stored, with what it did; its id makes a redelivery a no-op. */
@Entity({ name: 'stripe_events' })
export class StripeEventRecord {
  @PrimaryColumn({ type: 'text' }) id: string;
  @Column({ type: 'text' }) type: string;
  @Column({ name: 'payment_intent_id', type: 'text', nullable: true })
  paymentIntentId: string | null;
  @Column({ type: 'text' }) outcome: string;
  /** Why a `rejected` event was not believed. */
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' }) receivedAt: Date;
}
