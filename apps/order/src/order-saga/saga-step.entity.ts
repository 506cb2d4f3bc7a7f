import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { SagaState } from './order-saga.state';

/** One transition of a saga and what caused it: an event, a deadline or the customer. */
@Entity({ name: 'saga_steps' })
export class SagaStep {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ name: 'saga_id', type: 'uuid' }) sagaId: string;
  @Column({ name: 'from_state', type: 'text', nullable: true }) fromState: SagaState | null;
  @Column({ name: 'to_state', type: 'text' }) toState: SagaState;
  /** `inventory.reserved.v1`, `deadline`, `customer-cancel`, `order.created.v1`. */
  @Column({ type: 'text' }) trigger: string;
  @Column({ name: 'event_id', type: 'uuid', nullable: true }) eventId: string | null;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ type: 'timestamptz', default: () => 'clock_timestamp()' }) at: Date;
}
