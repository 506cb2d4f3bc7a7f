import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { BIGINT_AS_NUMBER } from '@lib/persistence';
import { StockLevels } from './product';

@Entity({ name: 'products' })
export class Product implements StockLevels {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId: string;
  @PrimaryColumn({ type: 'text' }) sku: string;
  @Column({ type: 'text' }) name: string;
  @Column({ name: 'price_minor', type: 'bigint', transformer: BIGINT_AS_NUMBER })
  priceMinor: number;
  @Column({ type: 'text' }) currency: string;
  @Column({ type: 'integer' }) available: number;
  @Column({ type: 'integer' }) reserved: number;
  @Column({ type: 'integer' }) committed: number;
  @Column({ name: 'low_stock_threshold', type: 'integer' }) lowStockThreshold: number;
  @Column({ name: 'low_stock_alerted', type: 'boolean' }) lowStockAlerted: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
