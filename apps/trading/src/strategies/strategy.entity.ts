import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { StrategyKind } from '@lib/contracts';
import { Position } from '../execution/position';
import { StrategyCommand, StrategyState } from './strategy.state';

@Entity({ name: 'strategies' })
export class Strategy implements Position {
  @PrimaryColumn('uuid') id: string;
  /** Every read and command is scoped by it: another tenant's strategy does not exist. */
  @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  /** The `sub` of the trader who created it; null for strategies from before it was recorded. */
  @Column({ name: 'created_by', type: 'text', nullable: true }) createdBy: string | null;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text' }) symbol: string;
  @Column({ type: 'text' }) kind: StrategyKind;
  /** Checked against the kind when the strategy is created. */
  @Column({ type: 'jsonb' }) params: object;
  @Column({ name: 'max_position', type: 'integer' }) maxPosition: number;
  @Column({ name: 'max_order_qty', type: 'integer' }) maxOrderQty: number;
  @Column({ name: 'max_orders_per_minute', type: 'integer' }) maxOrdersPerMinute: number;
  @Column({ type: 'text' }) state: StrategyState;
  /** A deploy or stop accepted over HTTP and not yet carried out by the command consumer. */
  @Column({ name: 'pending_command', type: 'text', nullable: true })
  pendingCommand: StrategyCommand | null;
  /** The last tick decided: tick n is recorded once, with the order it decided if any. */
  @Column({ type: 'integer' }) tick: number;
  /** The position: signed units held, long above zero. */
  @Column({ type: 'integer' }) quantity: number;
  @Column({ name: 'average_price', type: 'double precision' }) averagePrice: number;
  @Column({ name: 'realised_pnl', type: 'double precision' }) realisedPnl: number;
  @Column({ name: 'last_price', type: 'double precision', nullable: true })
  lastPrice: number | null;
  /** The instance that decided the last tick (`host:pid`), for operators. */
  @Column({ name: 'ticked_by', type: 'text', nullable: true }) tickedBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
