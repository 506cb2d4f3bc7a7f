import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { OrderSide } from '@lib/contracts';
import { OrderStatus } from './order.state';

/** A strategy's order. Its id is also the client order id the exchange de-duplicates on. */
@Entity({ name: 'orders' })
export class TradingOrder {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'strategy_id', type: 'uuid' }) strategyId: string;
  /** The strategy's tenant, carried by the events about the order. */
  @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  /** The tick that decided it; one order per tick at most. */
  @Column({ type: 'integer' }) tick: number;
  @Column({ type: 'text' }) symbol: string;
  @Column({ type: 'text' }) side: OrderSide;
  @Column({ type: 'integer' }) quantity: number;
  @Column({ name: 'reference_price', type: 'double precision' }) referencePrice: number;
  @Column({ type: 'text' }) status: OrderStatus;
  @Column({ name: 'filled_quantity', type: 'integer' }) filledQuantity: number;
  @Column({ name: 'average_fill_price', type: 'double precision', nullable: true })
  averageFillPrice: number | null;
  /** Why it was rejected. */
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
