import { Column, Entity, OneToMany, PrimaryColumn } from 'typeorm';
import { BIGINT_AS_NUMBER } from '@lib/persistence';
import { OrderLine } from './order-line.entity';

@Entity({ name: 'orders' })
export class Order {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'customer_id', type: 'text' }) customerId: string;
  @Column({ type: 'text' }) currency: string;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  /** Known once inventory has priced the reservation. */
  @Column({ name: 'total_minor', type: 'bigint', nullable: true, transformer: BIGINT_AS_NUMBER })
  totalMinor: number | null;
  /** Unique per tenant and customer; released once it has expired and is used again. */
  @Column({ name: 'idempotency_key', type: 'text', nullable: true }) idempotencyKey: string | null;
  /** SHA-256 of the normalised request: the same key with another body is refused. */
  @Column({ name: 'request_hash', type: 'text' }) requestHash: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @OneToMany(() => OrderLine, (line) => line.order) lines: OrderLine[];
}
