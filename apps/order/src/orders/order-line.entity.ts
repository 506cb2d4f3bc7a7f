import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BIGINT_AS_NUMBER } from '@lib/persistence';
import { Order } from './order.entity';

@Entity({ name: 'order_lines' })
export class OrderLine {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' }) orderId: string;
  @PrimaryColumn({ type: 'text' }) sku: string;
  @Column({ type: 'integer' }) quantity: number;
  /** The catalogue price inventory reserved at; the client never sends prices. */
  @Column({
    name: 'unit_price_minor',
    type: 'bigint',
    nullable: true,
    transformer: BIGINT_AS_NUMBER,
  })
  unitPriceMinor: number | null;
  @ManyToOne(() => Order, (order) => order.lines)
  @JoinColumn({ name: 'order_id' })
  order: Order;
}
