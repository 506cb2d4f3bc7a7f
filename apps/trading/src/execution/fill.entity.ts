import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A fill applied to an order and its strategy's position; the key makes applying it idempotent. */
@Entity({ name: 'fills' })
export class Fill {
  @PrimaryColumn({ name: 'fill_id', type: 'text' }) fillId: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId: string;
  @Column({ type: 'integer' }) quantity: number;
  @Column({ type: 'double precision' }) price: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
