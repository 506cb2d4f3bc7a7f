import { Column, Entity, PrimaryColumn } from 'typeorm';
import { OrderSide } from '@lib/contracts';

/**
 * The paper exchange's own order book: the venue's state, not the strategy's. Kept in Postgres so
 * that every instance trades on one venue, as they would on a real exchange.
 */
@Entity({ name: 'paper_exchange_orders' })
export class PaperExchangeOrder {
  @PrimaryColumn({ name: 'client_order_id', type: 'text' }) clientOrderId: string;
  @Column({ type: 'text' }) symbol: string;
  @Column({ type: 'text' }) side: OrderSide;
  @Column({ type: 'integer' }) quantity: number;
  /** The feed price moved against the taker by the configured slippage. */
  @Column({ name: 'fill_price', type: 'double precision' }) fillPrice: number;
  @Column({ name: 'rejected_reason', type: 'text', nullable: true }) rejectedReason: string | null;
  /** The fill schedule is fixed when the order is accepted: parts, one every `latency_ms`. */
  @Column({ name: 'fill_parts', type: 'integer' }) fillParts: number;
  @Column({ name: 'latency_ms', type: 'integer' }) latencyMs: number;
  /** How often this client order id was submitted; all but the first changed nothing. */
  @Column({ type: 'integer' }) submissions: number;
  @Column({ name: 'accepted_at', type: 'timestamptz' }) acceptedAt: Date;
  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true }) cancelledAt: Date | null;
}
